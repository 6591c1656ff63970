//! The one end-to-end test binary (one link step for every test): the sandbox served
//! over HTTP, the real `skubridge` executable, real SQLite files.

mod config;
mod email;
mod harness;
mod orders;
mod products;
mod schema;
mod stock;
mod unmatched;
