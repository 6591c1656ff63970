//! One GraphQL request, from body to reply: validation, pagination checks, cost and
//! throttling, execution with apollo-compiler, and `extensions.cost`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::LazyLock;

use apollo_compiler::executable::{Operation, OperationType, Selection};
use apollo_compiler::parser::LineColumn;
use apollo_compiler::request::coerce_variable_values;
use apollo_compiler::resolvers::{Execution, FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Schema};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};

use super::bulk::BulkState;
use super::cost::{self, Bucket};
use super::doc;
use super::orders::CreatePayload;
use super::resolve::{Ctx, Gql, Obj};
use super::store::Catalog;

static SCHEMA: LazyLock<Valid<Schema>> = LazyLock::new(|| {
    Schema::parse_and_validate(include_str!("schema.graphql"), "schema.graphql")
        // The schema is part of the source; a unit test parses it.
        .expect("schema.graphql is a valid schema")
});

pub fn schema() -> &'static Valid<Schema> {
    &SCHEMA
}

/// What apollo-compiler puts before a resolver's [`FieldError`] message.
const RESOLVER_ERROR_PREFIX: &str = "resolver error: ";

/// The JSON body of `POST /admin/api/{version}/graphql.json`.
#[derive(Deserialize)]
pub struct Request {
    pub query: String,
    #[serde(default)]
    pub variables: Option<Value>,
    #[serde(default, rename = "operationName")]
    pub operation_name: Option<String>,
}

/// What the store needs to run one request.
pub struct Target<'s> {
    pub cat: &'s mut Catalog,
    pub bulk: &'s mut BulkState,
    pub bucket: &'s mut Bucket,
    pub base_url: &'s str,
    pub now: DateTime<Utc>,
}

/// The reply body and the label the request is counted under.
pub struct Reply {
    pub body: Value,
    pub label: String,
}

pub fn error_json(message: &str, location: Option<LineColumn>, code: Option<&str>) -> Value {
    let mut e = json!({"message": message});
    if let Some(l) = location {
        e["locations"] = json!([l]);
    }
    if let Some(code) = code {
        e["extensions"] = json!({"code": code});
    }
    e
}

/// graphql-ruby's static-validation codes, which Shopify returns: `undefinedField` is seen
/// in a real reply (MONEI/Shopify-api-node#519); the others are graphql-ruby's names for
/// the same rules, UNCONFIRMED for Shopify. Syntax errors carry no code there.
fn validation_code(apollo_name: Option<&str>) -> Option<&'static str> {
    Some(match apollo_name? {
        "UndefinedField" => "undefinedField",
        "UndefinedArgument" => "argumentNotAccepted",
        "RequiredArgument" => "missingRequiredArguments",
        "UndefinedVariable" => "variableNotDefined",
        "UnusedVariable" => "variableNotUsed",
        "DisallowedVariableUsage" => "variableMismatch",
        "UndefinedFragment" => "undefinedFragment",
        "UnusedFragment" => "useAndDefineFragment",
        "UndefinedDefinition" => "undefinedType",
        "UndefinedDirective" => "undefinedDirective",
        "MissingSubselection" | "SubselectionOnScalarType" | "SubselectionOnEnumType" => {
            "selectionMismatch"
        }
        "UnsupportedValueType"
        | "IntCoercionError"
        | "FloatCoercionError"
        | "UndefinedEnumValue" => "argumentLiteralsIncompatible",
        "ConflictingFieldType" | "ConflictingFieldName" | "ConflictingFieldArgument" => {
            "fieldConflict"
        }
        _ => "validationError",
    })
}

/// Operation name if given, else the first root field.
fn label(doc: &ExecutableDocument, operation_name: Option<&str>) -> String {
    if let Some(name) = operation_name {
        return name.to_string();
    }
    let Ok(op) = doc.operations.get(None) else {
        return "(invalid)".into();
    };
    if let Some(name) = &op.name {
        return name.to_string();
    }
    op.selection_set
        .selections
        .iter()
        .find_map(|s| match s {
            Selection::Field(f) => Some(f.name.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "(invalid)".into())
}

pub fn run(t: Target<'_>, req: &Request) -> Reply {
    let schema = schema();
    let doc = match ExecutableDocument::parse_and_validate(
        schema,
        req.query.as_str(),
        "query.graphql",
    ) {
        Ok(doc) => doc,
        Err(invalid) => {
            let errors: Vec<Value> = invalid
                .errors
                .iter()
                .map(|d| {
                    let mut e = serde_json::to_value(d.to_json()).unwrap_or_else(|_| json!({}));
                    // Not public API, but the only structured name apollo-compiler exposes.
                    if let Some(code) = validation_code(d.error.unstable_error_name()) {
                        e["extensions"] = json!({"code": code});
                    }
                    e
                })
                .collect();
            return Reply {
                body: json!({"errors": errors, "extensions": {"cost": t.bucket.report(0, None)}}),
                label: label(&invalid.partial, req.operation_name.as_deref()),
            };
        }
    };
    let label = label(&doc, req.operation_name.as_deref());
    let body = execute(t, &doc, req);
    Reply { body, label }
}

fn execute(t: Target<'_>, doc: &Valid<ExecutableDocument>, req: &Request) -> Value {
    let fail = |errors: Vec<Value>, bucket: &mut Bucket, requested: u64| json!({"errors": errors, "extensions": {"cost": bucket.report(requested, None)}});
    let op = match doc.operations.get(req.operation_name.as_deref()) {
        Ok(op) => op,
        Err(e) => {
            let e = serde_json::to_value(e.to_graphql_error(&doc.sources)).unwrap_or_default();
            return fail(vec![e], t.bucket, 0);
        }
    };
    let raw_vars = match &req.variables {
        None | Some(Value::Null) => JsonMap::new(),
        Some(v @ Value::Object(_)) => match JsonValue::from(v.clone()) {
            JsonValue::Object(map) => map,
            _ => JsonMap::new(),
        },
        Some(_) => {
            let e = error_json("Variables must be a JSON object.", None, None);
            return fail(vec![e], t.bucket, 0);
        }
    };
    let vars = match coerce_variable_values(schema(), op, &raw_vars) {
        Ok(vars) => vars,
        Err(e) => {
            let e = serde_json::to_value(e.to_graphql_error(&doc.sources)).unwrap_or_default();
            return fail(vec![e], t.bucket, 0);
        }
    };
    let analysis = cost::analyze(doc, op, &vars);
    let requested = analysis.requested;
    if !analysis.errors.is_empty() {
        return fail(analysis.errors, t.bucket, requested);
    }
    if requested > cost::MAX_QUERY_COST {
        return fail(vec![cost::max_cost_error(requested)], t.bucket, requested);
    }
    if !t.bucket.take(requested) {
        let e = json!({"message": "Throttled", "extensions": {
            "code": "THROTTLED",
            "documentation": "https://shopify.dev/api/usage/rate-limits",
        }});
        return fail(vec![e], t.bucket, requested);
    }
    let actual = Cell::new(0);
    let execution = Execution::new(schema(), doc)
        .operation(op)
        .coerced_variable_values(&vars);
    let result = if op.operation_type == OperationType::Mutation {
        let created = create_orders(t.cat, doc, op, &vars, t.now);
        let root = MutationRoot {
            cat: t.cat,
            created,
            bulk: RefCell::new(t.bulk),
            base_url: t.base_url,
            now: t.now,
            cost: &actual,
        };
        execution.execute_sync(&root)
    } else {
        let ctx = Ctx {
            cat: t.cat,
            bulk: false,
        };
        let root = Gql {
            obj: Obj::Query(ctx, Some(&*t.bulk)),
            cost: &actual,
        };
        execution.execute_sync(&root)
    };
    let mut body = match result {
        Ok(resp) => serde_json::to_value(&resp).unwrap_or_default(),
        Err(e) => json!({"errors": [e.to_graphql_error(&doc.sources)]}),
    };
    // apollo-compiler prefixes resolver errors; Shopify's messages are ours alone.
    let errors = body.get_mut("errors").and_then(Value::as_array_mut);
    for e in errors.into_iter().flatten() {
        let bare = e["message"]
            .as_str()
            .and_then(|m| m.strip_prefix(RESOLVER_ERROR_PREFIX))
            .map(String::from);
        if let Some(bare) = bare {
            e["message"] = bare.into();
        }
    }
    let actual = actual.get().min(requested);
    t.bucket.refund(requested - actual);
    body["extensions"] = json!({"cost": t.bucket.report(requested, Some(actual))});
    body
}

/// Runs every `orderCreate` of a mutation, in document order, before execution: the
/// resolvers only read the catalog. Keyed by response key; `Err` is a top-level error.
fn create_orders(
    cat: &mut Catalog,
    doc: &ExecutableDocument,
    op: &Operation,
    vars: &JsonMap,
    now: DateTime<Utc>,
) -> HashMap<String, Result<Rc<CreatePayload>, &'static str>> {
    let empty = JsonMap::new();
    doc::collect(doc, &[&op.selection_set], vars)
        .into_iter()
        .filter(|(_, fields)| fields[0].name == "orderCreate")
        .map(|(key, fields)| {
            let args = doc::arguments(fields[0], vars);
            let order = args.get("order").and_then(JsonValue::as_object);
            let options = args.get("options").and_then(JsonValue::as_object);
            let result = cat
                .orders
                .create(&mut cat.variants, order.unwrap_or(&empty), options, now)
                .map(Rc::new);
            (key.to_string(), result)
        })
        .collect()
}

/// The `Mutation` root: bulk queries change the bulk-operation state; orders were
/// created before execution (see [`create_orders`]).
struct MutationRoot<'s, 'c> {
    cat: &'s Catalog,
    created: HashMap<String, Result<Rc<CreatePayload>, &'static str>>,
    bulk: RefCell<&'s mut BulkState>,
    base_url: &'s str,
    now: DateTime<Utc>,
    cost: &'c Cell<u64>,
}

impl ObjectValue for MutationRoot<'_, '_> {
    fn type_name(&self) -> &str {
        "Mutation"
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        if info.field_name() == "orderCreate" {
            let key = info.field_selections()[0].response_key().as_str();
            let payload = match self.created.get(key) {
                Some(Ok(payload)) => payload.clone(),
                Some(Err(message)) => {
                    return Err(FieldError {
                        message: message.to_string(),
                    })
                }
                None => return Err(self.unknown_field_error(info)),
            };
            let ctx = Ctx {
                cat: self.cat,
                bulk: false,
            };
            let obj = Obj::OrderCreatePayload(ctx, payload);
            let weight = cost::MUTATION_COST + cost::type_weight(obj.type_name());
            return Ok(Gql::wrap(obj, weight, self.cost));
        }
        if info.field_name() != "bulkOperationRunQuery" {
            return Err(self.unknown_field_error(info));
        }
        let query = info
            .arguments()
            .get("query")
            .and_then(JsonValue::as_str)
            .unwrap_or("");
        let payload = self
            .bulk
            .borrow_mut()
            .run(self.cat, query, self.now, self.base_url);
        let obj = Obj::RunPayload(Rc::new(payload));
        let weight = cost::MUTATION_COST + cost::type_weight(obj.type_name());
        Ok(Gql::wrap(obj, weight, self.cost))
    }
}
