//! Stock: `POST /batch` sets variants' inventory (absolute) by SKU. Hard To Find answers
//! success for SKUs it cannot place — unknown, or held by more than one of the seller's
//! variants — and changes nothing for them, so the sandbox records those SKUs for tests.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Session;
use super::error::{parse_body, ApiError};
use crate::App;

/// One of the seller's variants on Hard To Find. Two may share a SKU (the channel does
/// not enforce uniqueness); a batch cannot update either.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureVariant {
    pub sku: String,
    #[serde(default)]
    pub inventory: u64,
}

#[derive(Default)]
pub(super) struct Variants {
    rows: Vec<FixtureVariant>,
    /// Row positions by SKU: a batch of the benchmark's 100k-SKU catalogue must not
    /// scan every row per entity.
    by_sku: HashMap<String, Vec<usize>>,
    /// SKUs a batch named but could not apply, since start.
    ignored: BTreeSet<String>,
}

impl Variants {
    pub(super) fn new(rows: Vec<FixtureVariant>) -> Self {
        let mut variants = Self::default();
        rows.into_iter().for_each(|v| variants.add(v));
        variants
    }

    pub(super) fn add(&mut self, variant: FixtureVariant) {
        self.by_sku
            .entry(variant.sku.clone())
            .or_default()
            .push(self.rows.len());
        self.rows.push(variant);
    }

    /// Sets the inventory of the one variant holding each SKU; a SKU held by none or by
    /// several is recorded as ignored instead.
    fn apply(&mut self, entities: &[Entity]) {
        for entity in entities {
            match self.by_sku.get(&entity.sku).map(Vec::as_slice) {
                Some(&[one]) => self.rows[one].inventory = entity.inventory,
                _ => {
                    self.ignored.insert(entity.sku.clone());
                }
            }
        }
    }

    pub(super) fn dump(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|v| json!({"sku": v.sku, "inventory": v.inventory}))
            .collect();
        json!(rows)
    }

    pub(super) fn dump_ignored(&self) -> Value {
        json!(self.ignored)
    }
}

pub(super) fn routes() -> Router<Arc<App>> {
    Router::new().route("/hardtofind/batch", post(batch))
}

#[derive(Debug, PartialEq, Eq)]
struct Entity {
    sku: String,
    inventory: u64,
}

/// UNCONFIRMED: the API Reference shows no batch answer; the sandbox says how many
/// entities it received (not how many it applied: ignored SKUs are not reported).
fn batch_success(count: usize) -> Value {
    json!({"success": true, "count": count})
}

/// No batch limit: the API Reference documents none, so the sandbox invents none.
async fn batch(
    _: Session,
    State(app): State<Arc<App>>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let entities = parse_batch(&parse_body(&body)?)?;
    app.hardtofind.lock().unwrap().variants.apply(&entities);
    Ok(Json(batch_success(entities.len())))
}

/// The whole batch is validated before anything is applied: a 400 changes nothing.
fn parse_batch(body: &Value) -> Result<Vec<Entity>, ApiError> {
    let field = |name: &str| body.get(name).and_then(Value::as_str);
    if field("action") != Some("update") {
        return Err(ApiError::bad_request("action must be \"update\""));
    }
    if field("entity_type") != Some("variant") {
        return Err(ApiError::bad_request("entity_type must be \"variant\""));
    }
    let entities = body
        .get("entities")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::bad_request("entities must be an array"))?;
    entities
        .iter()
        .enumerate()
        .map(|(i, entity)| {
            parse_entity(entity).map_err(|why| ApiError::bad_request(format!("entities[{i}]{why}")))
        })
        .collect()
}

/// Says what is wrong after the entity's `entities[i]`.
fn parse_entity(entity: &Value) -> Result<Entity, &'static str> {
    let Value::Object(fields) = entity else {
        return Err(" must be an object {\"sku\", \"inventory\"}");
    };
    let sku = fields
        .get("sku")
        .and_then(Value::as_str)
        .ok_or(".sku must be a string")?;
    let inventory = fields
        .get("inventory")
        .and_then(Value::as_u64)
        .ok_or(".inventory must be an integer >= 0")?;
    Ok(Entity {
        sku: sku.to_string(),
        inventory,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch_of(entities: Value) -> Value {
        json!({"action": "update", "entity_type": "variant", "entities": entities})
    }

    fn message(body: Value) -> String {
        parse_batch(&body).unwrap_err().message
    }

    #[test]
    fn parses_entities_and_names_the_bad_one() {
        let ok = parse_batch(&batch_of(json!([{"sku": "A", "inventory": 3},
            {"sku": "B", "inventory": 0}])))
        .unwrap();
        assert_eq!(
            ok,
            [
                Entity {
                    sku: "A".into(),
                    inventory: 3
                },
                Entity {
                    sku: "B".into(),
                    inventory: 0
                }
            ]
        );
        for bad in [json!(-1), json!(1.5), json!("3"), json!(null)] {
            let body = batch_of(json!([{"sku": "A", "inventory": 1},
                {"sku": "B", "inventory": bad}]));
            assert_eq!(
                message(body),
                "entities[1].inventory must be an integer >= 0"
            );
        }
        let no_sku = batch_of(json!([{"sku": 12, "inventory": 1}]));
        assert_eq!(message(no_sku), "entities[0].sku must be a string");
        assert!(message(batch_of(json!([7]))).starts_with("entities[0] must be an object"));
        assert!(message(batch_of(json!({}))).contains("entities must be an array"));
        let mut wrong = batch_of(json!([]));
        wrong["action"] = json!("delete");
        assert!(message(wrong).contains("action"));
        let mut wrong = batch_of(json!([]));
        wrong["entity_type"] = json!("product");
        assert!(message(wrong).contains("entity_type"));
    }

    #[test]
    fn ambiguous_and_unknown_skus_are_ignored() {
        let row = |sku: &str| FixtureVariant {
            sku: sku.into(),
            inventory: 1,
        };
        let mut variants = Variants::new(vec![row("A"), row("D"), row("D")]);
        let entity = |sku: &str, inventory| Entity {
            sku: sku.into(),
            inventory,
        };
        variants.apply(&[entity("A", 5), entity("D", 9), entity("Z", 2)]);
        assert_eq!(
            variants.dump(),
            json!([{"sku": "A", "inventory": 5}, {"sku": "D", "inventory": 1},
                {"sku": "D", "inventory": 1}])
        );
        assert_eq!(variants.dump_ignored(), json!(["D", "Z"]));
    }
}
