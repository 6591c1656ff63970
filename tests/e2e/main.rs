//! The one end-to-end test binary (one link step for every test): the sandbox served
//! over HTTP, the real `skubridge` executable, real SQLite files.

mod channels;
mod config;
mod doctor;
mod email;
mod errors;
mod fulfil;
mod harness;
mod migration;
mod orders;
mod products;
mod recovery;
mod schema;
mod status;
mod stock;
mod unmatched;
