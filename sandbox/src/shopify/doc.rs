//! Walking a validated document outside apollo-compiler's executor (cost analysis and
//! bulk operations): field collection and argument values.

use apollo_compiler::ast::Value;
use apollo_compiler::collections::IndexMap;
use apollo_compiler::executable::{Field, Selection, SelectionSet};
use apollo_compiler::parser::LineColumn;
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::{ExecutableDocument, Name};

/// The fields selected on one object, grouped by response key in document order, with
/// fragments expanded and `@skip`/`@include` applied. The served schema has no
/// interfaces or unions, so every fragment of a valid document applies.
pub fn collect<'d>(
    doc: &'d ExecutableDocument,
    sets: &[&'d SelectionSet],
    vars: &JsonMap,
) -> Vec<(&'d Name, Vec<&'d Field>)> {
    let mut groups: IndexMap<&Name, Vec<&Field>> = IndexMap::default();
    let mut stack: Vec<&Selection> = sets
        .iter()
        .rev()
        .flat_map(|s| s.selections.iter().rev())
        .collect();
    while let Some(sel) = stack.pop() {
        if !included(sel, vars) {
            continue;
        }
        match sel {
            Selection::Field(f) => groups.entry(f.response_key()).or_default().push(f),
            Selection::InlineFragment(inline) => {
                stack.extend(inline.selection_set.selections.iter().rev());
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.fragment_name) {
                    stack.extend(fragment.selection_set.selections.iter().rev());
                }
            }
        }
    }
    groups.into_iter().collect()
}

/// The selection sets of all fields merged under one response key.
pub fn sub_selections<'d>(fields: &[&'d Field]) -> Vec<&'d SelectionSet> {
    fields.iter().map(|f| &f.selection_set).collect()
}

fn included(sel: &Selection, vars: &JsonMap) -> bool {
    let flag = |name: &str| {
        let arg = sel
            .directives()
            .get(name)?
            .specified_argument_by_name("if")?;
        value(arg, vars).as_bool()
    };
    !flag("skip").unwrap_or(false) && flag("include").unwrap_or(true)
}

/// A literal or variable as JSON (variables were coerced before execution).
pub fn value(v: &Value, vars: &JsonMap) -> JsonValue {
    match v {
        Value::Null => JsonValue::Null,
        Value::Enum(name) => name.as_str().into(),
        Value::Variable(name) => vars.get(name.as_str()).cloned().unwrap_or(JsonValue::Null),
        Value::String(s) => s.as_str().into(),
        Value::Float(f) => f.try_to_f64().map_or(JsonValue::Null, JsonValue::from),
        Value::Int(i) => i.try_to_i32().map_or(JsonValue::Null, JsonValue::from),
        Value::Boolean(b) => (*b).into(),
        Value::List(items) => items.iter().map(|i| value(i, vars)).collect(),
        Value::Object(fields) => JsonValue::Object(
            fields
                .iter()
                .map(|(k, v)| (k.as_str().into(), value(v, vars)))
                .collect(),
        ),
    }
}

/// The arguments given to `field` (schema defaults are left to the resolvers).
pub fn arguments(field: &Field, vars: &JsonMap) -> JsonMap {
    field
        .arguments
        .iter()
        .map(|a| (a.name.as_str().into(), value(&a.value, vars)))
        .collect()
}

pub fn location(doc: &ExecutableDocument, field: &Field) -> Option<LineColumn> {
    field.name.location()?.line_column(&doc.sources)
}
