//! The one end-to-end test binary (one link step for every test): the sandbox served
//! over HTTP, the real `skubridge` executable (in-process only for a kind the binary
//! lacks, `kind.rs`), real SQLite files.

mod channels;
mod config;
mod corpus;
mod deploy;
mod doctor;
mod email;
mod errors;
mod faults;
mod fulfil;
mod hardtofind;
mod harness;
mod kind;
mod market;
mod migration;
mod mirakl;
mod orders;
mod output;
mod products;
mod recovery;
mod report;
mod schema;
mod state;
mod status;
mod stock;
mod unmatched;
