//! STUB: replaced by the full implementation.

use std::sync::Arc;

use axum::Router;
use serde::Deserialize;
use serde_json::Value;

use crate::App;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct IconicFixture {}

impl IconicFixture {
    pub fn generate(_skus: usize) -> Self {
        Self {}
    }
}

pub struct IconicState {}

impl IconicState {
    pub fn new(_fixture: IconicFixture) -> Self {
        Self {}
    }

    pub fn dump(&self) -> Value {
        Value::Null
    }
}

pub fn router() -> Router<Arc<App>> {
    Router::new()
}

pub fn control_router() -> Router<Arc<App>> {
    Router::new()
}
