//! skubridge keeps a Shopify store and its marketplace channels selling from one
//! stock pool. The binary is `src/main.rs`; this library holds everything so the
//! end-to-end tests and the benchmark can reach the same code.

pub mod channel;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod db;
pub mod engine;
pub mod exit;
pub mod hooks;
pub mod http;
pub mod lock;
pub mod logging;
pub mod metrics;
pub mod money;
pub mod notify;
pub mod output;
pub mod secret;
pub mod shopify;
pub mod stop;
#[cfg(test)]
pub(crate) mod test_server;
