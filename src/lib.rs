//! skubridge keeps a Shopify store and its marketplace channels selling from one
//! stock pool. The binary is `src/main.rs`; this library holds everything so the
//! end-to-end tests and the benchmark can reach the same code.

pub mod channel;
pub mod http;
pub mod secret;
pub mod shopify;
