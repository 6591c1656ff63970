//! skubridge's GraphQL against Shopify's real Admin schema (the 2025-01 introspection
//! file Shopify published in `@shopify/dev-mcp`):
//! - every document in `src/shopify/queries/` (read at test time, so new files are
//!   covered) validates, and respects the documented limits;
//! - the sandbox's `schema.graphql` is a subset of the real schema, so a document the
//!   sandbox accepts has the same shape in production.
//!
//! Self-contained on purpose: nothing from the other e2e modules.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use apollo_compiler::ast::{OperationType, Value};
use apollo_compiler::collections::IndexMap;
use apollo_compiler::executable::{Field, Operation, Selection, SelectionSet};
use apollo_compiler::schema::{Component, ExtendedType, FieldDefinition, InputValueDefinition};
use apollo_compiler::validation::Valid;
use apollo_compiler::{ExecutableDocument, Name, Node, Schema};
use serde::Deserialize;

const SCHEMA_FILE: &str = "admin_schema_2025-01.json.gz";
/// Shopify's documented cap on `first`/`last` (shared/api/shopify.md §2).
const MAX_PAGE: i32 = 250;
/// Bulk query rules (shared/api/shopify.md §3): at most 5 connections, nested at
/// most 2 levels deep.
const BULK_MAX_CONNECTIONS: usize = 5;
const BULK_MAX_DEPTH: usize = 2;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn queries_dir() -> PathBuf {
    root().join("src/shopify/queries")
}

static REAL: LazyLock<Result<Valid<Schema>, String>> = LazyLock::new(load_real_schema);

fn real() -> &'static Valid<Schema> {
    REAL.as_ref().unwrap_or_else(|e| panic!("{e}"))
}

// ---------------------------------------------------------------------------------
// Finding and converting the real schema
// ---------------------------------------------------------------------------------

/// `$SKUBRIDGE_SHOPIFY_SCHEMA`, then `../shared/shopify-schema/`, then `.schema/`
/// (where `make schema` puts it from the npm package).
fn schema_path() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("SKUBRIDGE_SHOPIFY_SCHEMA") {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "SKUBRIDGE_SHOPIFY_SCHEMA={} is not a file: run `make schema`",
                path.display()
            ))
        };
    }
    let candidates = [
        root().join("../shared/shopify-schema").join(SCHEMA_FILE),
        root().join(".schema").join(SCHEMA_FILE),
    ];
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            let looked: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
            format!(
            "Shopify's Admin schema {SCHEMA_FILE} was not found (SKUBRIDGE_SHOPIFY_SCHEMA unset; \
             looked in {}): run `make schema`",
            looked.join(", ")
        )
        })
}

fn load_real_schema() -> Result<Valid<Schema>, String> {
    let path = schema_path()?;
    let file = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let introspection: Introspection =
        serde_json::from_reader(reader).map_err(|e| format!("{}: {e}", path.display()))?;
    let sdl = to_sdl(&introspection.data.schema);
    Schema::parse_and_validate(sdl, "shopify-admin-2025-01.graphql").map_err(|e| {
        format!(
            "the SDL converted from {} is invalid:\n{}",
            path.display(),
            e.errors
        )
    })
}

#[derive(Deserialize)]
struct Introspection {
    data: IntrospectionData,
}

#[derive(Deserialize)]
struct IntrospectionData {
    #[serde(rename = "__schema")]
    schema: IntroSchema,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroSchema {
    query_type: Named,
    mutation_type: Option<Named>,
    subscription_type: Option<Named>,
    types: Vec<IntroType>,
    directives: Vec<IntroDirective>,
}

#[derive(Deserialize)]
struct Named {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroType {
    kind: String,
    name: String,
    fields: Option<Vec<IntroField>>,
    input_fields: Option<Vec<IntroInput>>,
    interfaces: Option<Vec<Named>>,
    enum_values: Option<Vec<Named>>,
    possible_types: Option<Vec<Named>>,
}

#[derive(Deserialize)]
struct IntroField {
    name: String,
    args: Vec<IntroInput>,
    #[serde(rename = "type")]
    ty: TypeRef,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroInput {
    name: String,
    #[serde(rename = "type")]
    ty: TypeRef,
    /// Already a GraphQL literal.
    default_value: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TypeRef {
    kind: String,
    name: Option<String>,
    of_type: Option<Box<TypeRef>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IntroDirective {
    name: String,
    locations: Vec<String>,
    args: Vec<IntroInput>,
    #[serde(default)]
    is_repeatable: bool,
}

/// Types and directives apollo-compiler defines itself.
const BUILT_IN: &[&str] = &[
    "String",
    "Int",
    "Float",
    "Boolean",
    "ID",
    "skip",
    "include",
    "deprecated",
    "specifiedBy",
];

fn type_ref(t: &TypeRef) -> String {
    match (t.kind.as_str(), &t.of_type, &t.name) {
        ("NON_NULL", Some(inner), _) => format!("{}!", type_ref(inner)),
        ("LIST", Some(inner), _) => format!("[{}]", type_ref(inner)),
        (_, _, Some(name)) => name.clone(),
        (kind, _, None) => panic!("introspection type reference of kind {kind} without a name"),
    }
}

fn input_value(v: &IntroInput) -> String {
    match &v.default_value {
        Some(default) => format!("{}: {} = {default}", v.name, type_ref(&v.ty)),
        None => format!("{}: {}", v.name, type_ref(&v.ty)),
    }
}

fn arguments(args: &[IntroInput]) -> String {
    if args.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = args.iter().map(input_value).collect();
        format!("({})", list.join(", "))
    }
}

fn names(list: &Option<Vec<Named>>) -> Vec<&str> {
    list.iter().flatten().map(|n| n.name.as_str()).collect()
}

/// The introspection result as SDL: types, fields, arguments with defaults, input
/// fields, enums, interfaces, unions, scalars and custom directives. Descriptions
/// and deprecations are left out; they do not affect validation.
fn to_sdl(schema: &IntroSchema) -> String {
    let mut sdl = String::new();
    let mut roots = format!("schema {{\n  query: {}\n", schema.query_type.name);
    for (op, root) in [
        ("mutation", &schema.mutation_type),
        ("subscription", &schema.subscription_type),
    ] {
        if let Some(root) = root {
            let _ = writeln!(roots, "  {op}: {}", root.name);
        }
    }
    let _ = writeln!(sdl, "{roots}}}\n");
    for d in schema
        .directives
        .iter()
        .filter(|d| !BUILT_IN.contains(&d.name.as_str()))
    {
        let repeatable = if d.is_repeatable { " repeatable" } else { "" };
        let _ = writeln!(
            sdl,
            "directive @{}{}{repeatable} on {}\n",
            d.name,
            arguments(&d.args),
            d.locations.join(" | ")
        );
    }
    for t in schema
        .types
        .iter()
        .filter(|t| !t.name.starts_with("__") && !BUILT_IN.contains(&t.name.as_str()))
    {
        let implements = match names(&t.interfaces).join(" & ") {
            list if list.is_empty() => String::new(),
            list => format!(" implements {list}"),
        };
        let fields = || -> String {
            t.fields
                .iter()
                .flatten()
                .map(|f| format!("  {}{}: {}\n", f.name, arguments(&f.args), type_ref(&f.ty)))
                .collect()
        };
        let _ = match t.kind.as_str() {
            "SCALAR" => writeln!(sdl, "scalar {}\n", t.name),
            "OBJECT" => writeln!(sdl, "type {}{implements} {{\n{}}}\n", t.name, fields()),
            "INTERFACE" => writeln!(sdl, "interface {}{implements} {{\n{}}}\n", t.name, fields()),
            "UNION" => writeln!(
                sdl,
                "union {} = {}\n",
                t.name,
                names(&t.possible_types).join(" | ")
            ),
            "ENUM" => writeln!(
                sdl,
                "enum {} {{\n  {}\n}}\n",
                t.name,
                names(&t.enum_values).join("\n  ")
            ),
            "INPUT_OBJECT" => {
                let fields: String = t
                    .input_fields
                    .iter()
                    .flatten()
                    .map(|f| format!("  {}\n", input_value(f)))
                    .collect();
                writeln!(sdl, "input {} {{\n{fields}}}\n", t.name)
            }
            other => panic!("introspection type {} of unknown kind {other}", t.name),
        };
    }
    sdl
}

// ---------------------------------------------------------------------------------
// Documents
// ---------------------------------------------------------------------------------

/// `(path, text)` of every `.graphql` file directly in `dir`, sorted.
fn graphql_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphql"))
        .map(|p| {
            let text =
                std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, text)
        })
        .collect();
    files.sort();
    files
}

/// Documents sent as GraphQL requests.
fn request_documents() -> Vec<(PathBuf, String)> {
    graphql_files(&queries_dir())
}

/// Queries run inside `bulkOperationRunQuery`.
fn bulk_documents() -> Vec<(PathBuf, String)> {
    graphql_files(&queries_dir().join("bulk"))
}

fn validate(path: &Path, text: &str) -> Result<Valid<ExecutableDocument>, String> {
    ExecutableDocument::parse_and_validate(real(), text, path).map_err(|e| e.errors.to_string())
}

fn operations(doc: &ExecutableDocument) -> Vec<&Node<Operation>> {
    doc.operations.iter().collect()
}

#[test]
fn every_document_validates_against_shopifys_schema() {
    let requests = request_documents();
    let bulk = bulk_documents();
    assert!(
        requests.len() >= 6,
        "documents missing from {}",
        queries_dir().display()
    );
    assert!(!bulk.is_empty(), "the bulk catalog query is missing");
    let mut problems = String::new();
    for (path, text) in requests.iter().chain(&bulk) {
        if let Err(errors) = validate(path, text) {
            let _ = writeln!(problems, "{}:\n{errors}", path.display());
        }
    }
    assert!(problems.is_empty(), "{problems}");
}

#[test]
fn each_request_document_is_one_operation_named_like_its_file() {
    for (path, text) in request_documents() {
        let doc = validate(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let names: Vec<Option<&str>> = operations(&doc)
            .iter()
            .map(|op| op.name.as_ref().map(|n| n.as_str()))
            .collect();
        assert_eq!(names, [Some(stem)], "{}", path.display());
    }
}

#[test]
fn unknown_fields_and_typos_are_rejected() {
    let path = Path::new("negative.graphql");
    let with = |options: &str| {
        format!(
            "mutation {{ orderCreate(order: {{ lineItems: [] }}, options: {{ {options} }}) \
             {{ userErrors {{ message }} }} }}"
        )
    };
    // The spelling trap from the contract: British spelling is the real one.
    assert!(validate(path, &with("inventoryBehaviour: DECREMENT_OBEYING_POLICY")).is_ok());
    let err = validate(path, &with("inventoryBehavior: DECREMENT_OBEYING_POLICY")).unwrap_err();
    assert!(err.contains("inventoryBehavior"), "{err}");

    assert!(validate(path, "{ shop { name } }").is_ok());
    assert!(validate(path, "{ shop { nam } }").is_err());
    assert!(validate(
        path,
        "{ productVariants(first: 1) { nodes { inventoryBehavior } } }"
    )
    .is_err());
    assert!(validate(
        path,
        "{ location(id: 1) { inventoryLevels(first: \"x\") { nodes { id } } } }"
    )
    .is_err());
}

/// Problems with page sizes in one request document: every `first`/`last` is at most
/// 250 (a literal or a variable's default) and every connection asks for a page.
fn page_size_problems(doc: &ExecutableDocument) -> Vec<String> {
    let mut problems = Vec::new();
    for op in operations(doc) {
        walk_fields(doc, &op.selection_set, 0, &mut |field, _| {
            let size = |arg: &str| {
                field
                    .arguments
                    .iter()
                    .find(|a| a.name == arg)
                    .map(|a| match a.value.as_ref() {
                        Value::Variable(var) => op
                            .variables
                            .iter()
                            .find(|v| v.name == *var)
                            .and_then(|v| v.default_value.as_ref())
                            .and_then(|d| d.to_i32()),
                        value => value.to_i32(),
                    })
            };
            for arg in ["first", "last"] {
                match size(arg) {
                    Some(Some(n)) if n > MAX_PAGE => {
                        problems.push(format!("{}: {arg}: {n} exceeds {MAX_PAGE}", field.name))
                    }
                    Some(None) => problems.push(format!(
                        "{}: {arg} must be a literal or a defaulted variable",
                        field.name
                    )),
                    _ => {}
                }
            }
            if is_connection(field) && size("first").is_none() && size("last").is_none() {
                problems.push(format!("{}: a connection without first/last", field.name));
            }
        });
    }
    problems
}

/// Problems with one bulk query against Shopify's bulk rules.
fn bulk_problems(doc: &ExecutableDocument) -> Vec<String> {
    let mut problems = Vec::new();
    for op in operations(doc) {
        if op.operation_type != OperationType::Query {
            problems.push("a bulk query must be a query".into());
        }
        let mut connections = 0;
        walk_fields(doc, &op.selection_set, 0, &mut |field, depth| {
            if depth == 0 && matches!(field.name.as_str(), "node" | "nodes") {
                problems.push(format!("top-level {} is not allowed", field.name));
            }
            if is_connection(field) {
                connections += 1;
                if depth >= BULK_MAX_DEPTH {
                    problems.push(format!(
                        "{}: connections nest at most {BULK_MAX_DEPTH} levels",
                        field.name
                    ));
                }
            }
        });
        if !(1..=BULK_MAX_CONNECTIONS).contains(&connections) {
            problems.push(format!(
                "{connections} connections; a bulk query needs 1 to {BULK_MAX_CONNECTIONS}"
            ));
        }
    }
    problems
}

fn is_connection(field: &Field) -> bool {
    field
        .definition
        .ty
        .inner_named_type()
        .as_str()
        .ends_with("Connection")
}

/// Calls `visit(field, connections_above)` for every field, through fragments.
fn walk_fields(
    doc: &ExecutableDocument,
    set: &SelectionSet,
    connections_above: usize,
    visit: &mut dyn FnMut(&Field, usize),
) {
    for selection in &set.selections {
        match selection {
            Selection::Field(field) => {
                visit(field, connections_above);
                let below = connections_above + usize::from(is_connection(field));
                walk_fields(doc, &field.selection_set, below, visit);
            }
            Selection::FragmentSpread(spread) => {
                if let Some(fragment) = doc.fragments.get(&spread.fragment_name) {
                    walk_fields(doc, &fragment.selection_set, connections_above, visit);
                }
            }
            Selection::InlineFragment(inline) => {
                walk_fields(doc, &inline.selection_set, connections_above, visit)
            }
        }
    }
}

#[test]
fn documents_respect_shopifys_limits() {
    let mut problems = String::new();
    for (path, text) in request_documents() {
        let doc = validate(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        for p in page_size_problems(&doc) {
            let _ = writeln!(problems, "{}: {p}", path.display());
        }
    }
    for (path, text) in bulk_documents() {
        let doc = validate(&path, &text).unwrap_or_else(|e| panic!("{e}"));
        for p in bulk_problems(&doc) {
            let _ = writeln!(problems, "{}: {p}", path.display());
        }
    }
    assert!(problems.is_empty(), "{problems}");
}

#[test]
fn the_limit_checks_catch_violations() {
    let doc = |text: &str| {
        validate(Path::new("negative.graphql"), text).unwrap_or_else(|e| panic!("{e}"))
    };
    let big = doc("query Q { productVariants(first: 251) { nodes { id } } }");
    assert_eq!(
        page_size_problems(&big),
        ["productVariants: first: 251 exceeds 250"]
    );
    let defaulted = doc("query Q($n: Int = 300) { locations(first: $n) { nodes { id } } }");
    assert_eq!(
        page_size_problems(&defaulted),
        ["locations: first: 300 exceeds 250"]
    );
    let open = doc("query Q($n: Int) { locations(first: $n) { nodes { id } } }");
    assert_eq!(
        page_size_problems(&open),
        ["locations: first must be a literal or a defaulted variable"]
    );
    let unpaged = doc("query Q { locations { nodes { id } } }");
    assert_eq!(
        page_size_problems(&unpaged),
        ["locations: a connection without first/last"]
    );

    let deep = doc(
        "{ products { edges { node { variants { edges { node { inventoryItem { \
         inventoryLevels { edges { node { id } } } } } } } } } } }",
    );
    assert_eq!(
        bulk_problems(&deep),
        ["inventoryLevels: connections nest at most 2 levels"]
    );
    let none = doc("{ shop { name } }");
    assert_eq!(
        bulk_problems(&none),
        ["0 connections; a bulk query needs 1 to 5"]
    );
}

// ---------------------------------------------------------------------------------
// The sandbox schema is a subset of the real one
// ---------------------------------------------------------------------------------

type Fields = IndexMap<Name, Component<FieldDefinition>>;

fn kind(t: &ExtendedType) -> &'static str {
    match t {
        ExtendedType::Scalar(_) => "scalar",
        ExtendedType::Object(_) => "object",
        ExtendedType::Interface(_) => "interface",
        ExtendedType::Union(_) => "union",
        ExtendedType::Enum(_) => "enum",
        ExtendedType::InputObject(_) => "input object",
    }
}

/// `sub`'s input values (arguments or input fields) against `real`'s: each exists with
/// the same type and default, and none of real's required ones is left out.
fn compare_inputs(
    at: &str,
    sub: &[&Node<InputValueDefinition>],
    real: &[&Node<InputValueDefinition>],
    problems: &mut Vec<String>,
) {
    for s in sub {
        match real.iter().find(|r| r.name == s.name) {
            None => problems.push(format!("{at}({}): not in the real schema", s.name)),
            Some(r) if r.ty != s.ty => {
                problems.push(format!("{at}({}): {} but real is {}", s.name, s.ty, r.ty))
            }
            Some(r) if r.default_value != s.default_value => problems.push(format!(
                "{at}({}): default {:?} but real is {:?}",
                s.name,
                s.default_value.as_ref().map(|v| v.to_string()),
                r.default_value.as_ref().map(|v| v.to_string())
            )),
            Some(_) => {}
        }
    }
    for r in real {
        let required = r.ty.is_non_null() && r.default_value.is_none();
        if required && !sub.iter().any(|s| s.name == r.name) {
            problems.push(format!(
                "{at}({}): required in the real schema but missing",
                r.name
            ));
        }
    }
}

fn compare_fields(type_name: &str, sub: &Fields, real: &Fields, problems: &mut Vec<String>) {
    for (name, s) in sub {
        let at = format!("{type_name}.{name}");
        let Some(r) = real.get(name) else {
            problems.push(format!("{at}: not in the real schema"));
            continue;
        };
        if s.ty != r.ty {
            problems.push(format!("{at}: {} but real is {}", s.ty, r.ty));
        }
        let sub_args: Vec<_> = s.arguments.iter().collect();
        let real_args: Vec<_> = r.arguments.iter().collect();
        compare_inputs(&at, &sub_args, &real_args, problems);
    }
}

/// Everything in `sub` that is not in `real` with the same shape.
fn subset_problems(sub: &Schema, real: &Schema) -> Vec<String> {
    let mut problems = Vec::new();
    let roots = |s: &Schema| {
        let d = &s.schema_definition;
        [&d.query, &d.mutation, &d.subscription].map(|r| r.as_ref().map(|n| n.name.to_string()))
    };
    for ((op, s), r) in ["query", "mutation", "subscription"]
        .iter()
        .zip(roots(sub))
        .zip(roots(real))
    {
        if s.is_some() && s != r {
            problems.push(format!("schema {op} root is {s:?} but real is {r:?}"));
        }
    }
    for (name, s) in sub.types.iter().filter(|(_, t)| !t.is_built_in()) {
        let Some(r) = real.types.get(name) else {
            problems.push(format!("type {name}: not in the real schema"));
            continue;
        };
        if kind(s) != kind(r) {
            problems.push(format!("type {name}: {} but real is {}", kind(s), kind(r)));
            continue;
        }
        match (s, r) {
            (ExtendedType::Object(s), ExtendedType::Object(r)) => {
                for i in s.implements_interfaces.difference(&r.implements_interfaces) {
                    problems.push(format!("type {name}: implements {i} but real does not"));
                }
                compare_fields(name, &s.fields, &r.fields, &mut problems);
            }
            (ExtendedType::Interface(s), ExtendedType::Interface(r)) => {
                for i in s.implements_interfaces.difference(&r.implements_interfaces) {
                    problems.push(format!(
                        "interface {name}: implements {i} but real does not"
                    ));
                }
                compare_fields(name, &s.fields, &r.fields, &mut problems);
            }
            (ExtendedType::Union(s), ExtendedType::Union(r)) => {
                for m in s.members.difference(&r.members) {
                    problems.push(format!("union {name}: member {m} is not in the real union"));
                }
            }
            (ExtendedType::Enum(s), ExtendedType::Enum(r)) => {
                for v in s.values.keys().filter(|v| !r.values.contains_key(*v)) {
                    problems.push(format!("enum {name}: value {v} is not in the real enum"));
                }
            }
            (ExtendedType::InputObject(s), ExtendedType::InputObject(r)) => {
                let sub_fields: Vec<_> = s.fields.values().map(|f| &f.node).collect();
                let real_fields: Vec<_> = r.fields.values().map(|f| &f.node).collect();
                compare_inputs(
                    &format!("input {name}"),
                    &sub_fields,
                    &real_fields,
                    &mut problems,
                );
            }
            _ => {} // scalars: existing with the same kind is all there is
        }
    }
    for (name, s) in sub
        .directive_definitions
        .iter()
        .filter(|(_, d)| !d.is_built_in())
    {
        match real.directive_definitions.get(name) {
            None => problems.push(format!("directive @{name}: not in the real schema")),
            Some(r) => {
                let sub_args: Vec<_> = s.arguments.iter().collect();
                let real_args: Vec<_> = r.arguments.iter().collect();
                compare_inputs(&format!("@{name}"), &sub_args, &real_args, &mut problems);
            }
        }
    }
    problems
}

fn sandbox_schema() -> Valid<Schema> {
    let path = root().join("sandbox/src/shopify/schema.graphql");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Schema::parse_and_validate(text, &path).unwrap_or_else(|e| panic!("{}", e.errors))
}

#[test]
fn the_sandbox_schema_is_a_subset_of_shopifys() {
    let problems = subset_problems(&sandbox_schema(), real());
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_subset_check_catches_differences() {
    let sub = Schema::parse_and_validate(
        r#"
        schema { query: QueryRoot }
        type QueryRoot {
          shop: Shop
          location(id: ID!): Location
          productVariants(first: String, sortKey: ProductVariantSortKeys = SKU): ProductVariantConnection!
        }
        type Shop { name: String! inventedField: Int }
        type Location { id: ID! }
        type ProductVariantConnection { nodes: [ProductVariant]! }
        type ProductVariant { id: ID! }
        interface Inventedface { id: ID! }
        enum ProductVariantSortKeys { SKU INVENTED }
        input InventoryQuantityInput { quantity: Int! changeFromQuantity: Int }
        "#,
        "sub.graphql",
    )
    .unwrap_or_else(|e| panic!("{}", e.errors));
    let problems = subset_problems(&sub, real());
    let expected = [
        "QueryRoot.shop: Shop but real is Shop!",
        "QueryRoot.location(id): ID! but real is ID",
        "QueryRoot.productVariants(first): String but real is Int",
        "QueryRoot.productVariants(sortKey): default Some(\"SKU\") but real is Some(\"ID\")",
        "Shop.inventedField: not in the real schema",
        "ProductVariantConnection.nodes: [ProductVariant]! but real is [ProductVariant!]!",
        "type Inventedface: not in the real schema",
        "enum ProductVariantSortKeys: value INVENTED is not in the real enum",
        "input InventoryQuantityInput(changeFromQuantity): not in the real schema",
        "input InventoryQuantityInput(inventoryItemId): required in the real schema but missing",
        "input InventoryQuantityInput(locationId): required in the real schema but missing",
    ];
    for e in expected {
        assert!(
            problems.iter().any(|p| p == e),
            "missing {e:?} in:\n{}",
            problems.join("\n")
        );
    }
    assert_eq!(problems.len(), expected.len(), "{}", problems.join("\n"));
}

#[test]
fn the_converted_schema_is_complete() {
    // Counts stated by shared/shopify-schema/README.md for this file.
    let schema = real();
    let field_count = |name: &str| schema.get_object(name).map(|o| o.fields.len());
    assert_eq!(field_count("Mutation"), Some(458));
    assert_eq!(field_count("QueryRoot"), Some(241));
    let user_types = schema.types.values().filter(|t| !t.is_built_in()).count();
    // 2,709 types in the file, less the 5 built-in scalars and 8 introspection types.
    assert_eq!(user_types, 2709 - 5 - 8);
}
