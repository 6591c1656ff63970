//! Bulk query operations: `bulkOperationRunQuery`, `currentBulkOperation` and the JSONL
//! result file.
//!
//! The inner query runs to completion when it is submitted (a snapshot of that moment);
//! `currentBulkOperation` then reports RUNNING once and COMPLETED afterwards, so clients
//! exercise their polling. Only the latest operation's file is kept.

use std::cell::Cell;

use apollo_compiler::ast;
use apollo_compiler::executable::{OperationType, SelectionSet};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::ExecutableDocument;
use axum::body::Bytes;
use chrono::{DateTime, Utc};

use super::doc;
use super::graphql::schema;
use super::resolve::{time, Ctx, Obj, Out};
use super::store::{gid, Catalog};

/// Shopify's limits on bulk queries (bulk-operations guide, contract §3).
const MAX_CONNECTIONS: usize = 5;
const MAX_NESTING: usize = 2;

#[derive(Default)]
pub struct BulkState {
    next_id: u64,
    current: Option<BulkOp>,
}

struct BulkOp {
    id: u64,
    query: String,
    created_at: DateTime<Utc>,
    /// `currentBulkOperation` calls so far: the first sees RUNNING.
    polls: Cell<u32>,
    url: String,
    file: Bytes,
    objects: u64,
    roots: u64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Status {
    Created,
    Running,
    Completed,
}

impl BulkOp {
    fn status(&self) -> Status {
        match self.polls.get() {
            0 => Status::Created,
            1 => Status::Running,
            _ => Status::Completed,
        }
    }

    fn view(&self) -> BulkView {
        let status = self.status();
        let done = status == Status::Completed;
        BulkView {
            id: gid("BulkOperation", self.id),
            status: match status {
                Status::Created => "CREATED",
                Status::Running => "RUNNING",
                Status::Completed => "COMPLETED",
            },
            query: self.query.clone(),
            created_at: time(self.created_at),
            completed_at: done.then(|| time(self.created_at)),
            url: done.then(|| self.url.clone()),
            // UnsignedInt64 is serialized as a string.
            object_count: if done { self.objects } else { 0 }.to_string(),
            root_object_count: if done { self.roots } else { 0 }.to_string(),
            file_size: done.then(|| self.file.len().to_string()),
        }
    }
}

/// A BulkOperation as one reply shows it.
#[derive(Clone)]
pub struct BulkView {
    id: String,
    status: &'static str,
    query: String,
    created_at: String,
    completed_at: Option<String>,
    url: Option<String>,
    object_count: String,
    root_object_count: String,
    file_size: Option<String>,
}

impl BulkView {
    pub fn field(&self, name: &str) -> Option<JsonValue> {
        Some(match name {
            "id" => self.id.as_str().into(),
            "status" => self.status.into(),
            "type" => "QUERY".into(),
            "query" => self.query.as_str().into(),
            "createdAt" => self.created_at.as_str().into(),
            "completedAt" => self.completed_at.clone().into(),
            "url" => self.url.clone().into(),
            "partialDataUrl" | "errorCode" => JsonValue::Null,
            "objectCount" => self.object_count.as_str().into(),
            "rootObjectCount" => self.root_object_count.as_str().into(),
            "fileSize" => self.file_size.clone().into(),
            _ => return None,
        })
    }
}

/// `BulkOperationRunQueryPayload`.
pub struct RunPayload {
    pub operation: Option<BulkView>,
    pub errors: Vec<UserError>,
}

pub struct UserError {
    code: &'static str,
    message: String,
}

impl UserError {
    fn invalid(message: impl Into<String>) -> Self {
        UserError {
            code: "INVALID",
            message: message.into(),
        }
    }

    pub fn field(&self, name: &str) -> Option<JsonValue> {
        Some(match name {
            "code" => self.code.into(),
            "field" => vec!["query"].into(),
            "message" => self.message.as_str().into(),
            _ => return None,
        })
    }
}

impl BulkState {
    /// `currentBulkOperation`: each call moves a fresh operation one step on.
    pub fn poll(&self) -> Option<BulkView> {
        let op = self.current.as_ref()?;
        op.polls.set(op.polls.get().saturating_add(1));
        Some(op.view())
    }

    /// The result file of operation `id`, once it exists.
    pub fn file(&self, id: u64) -> Option<Bytes> {
        self.current
            .as_ref()
            .filter(|op| op.id == id)
            .map(|op| op.file.clone())
    }

    /// `bulkOperationRunQuery(query:)`.
    pub fn run(
        &mut self,
        cat: &Catalog,
        query: &str,
        now: DateTime<Utc>,
        base_url: &str,
    ) -> RunPayload {
        let fail = |e| RunPayload {
            operation: None,
            errors: vec![e],
        };
        if let Some(op) = self
            .current
            .as_ref()
            .filter(|op| op.status() != Status::Completed)
        {
            return fail(UserError {
                code: "OPERATION_IN_PROGRESS",
                message: format!(
                    "A bulk query operation for this app and shop is already in progress: {}.",
                    gid("BulkOperation", op.id)
                ),
            });
        }
        let doc = match check(query) {
            Ok(doc) => doc,
            Err(e) => return fail(e),
        };
        let mut out = Writer::default();
        out.root(Ctx { cat, bulk: true }, &doc);
        self.next_id += 1;
        let id = self.next_id;
        let op = BulkOp {
            id,
            query: query.to_string(),
            created_at: now,
            polls: Cell::new(0),
            url: format!("{base_url}/shopify-bulk/{id}.jsonl"),
            file: Bytes::from(out.file),
            objects: out.objects,
            roots: out.roots,
        };
        let view = op.view();
        self.current = Some(op);
        RunPayload {
            operation: Some(view),
            errors: Vec::new(),
        }
    }
}

/// Validates a bulk query against the schema and Shopify's bulk rules.
fn check(query: &str) -> Result<ExecutableDocument, UserError> {
    // Checked on the syntax tree first: the served schema has no `node`/`nodes`, so
    // validation would only say the field is unknown.
    if let Ok(ast) = ast::Document::parse(query, "bulk.graphql") {
        let is_node = |s: &ast::Selection| match s {
            ast::Selection::Field(f) => matches!(f.name.as_str(), "node" | "nodes"),
            _ => false,
        };
        let top_level_node = ast.definitions.iter().any(|d| match d {
            ast::Definition::OperationDefinition(op) => op.selection_set.iter().any(is_node),
            _ => false,
        });
        if top_level_node {
            return Err(UserError::invalid(
                "Bulk queries cannot contain a top level `node` or `nodes` field.",
            ));
        }
    }
    let doc =
        ExecutableDocument::parse_and_validate(schema(), query, "bulk.graphql").map_err(|e| {
            let first = e.errors.iter().next().map(|d| d.error.to_string());
            UserError::invalid(format!("Invalid bulk query: {}", first.unwrap_or_default()))
        })?;
    let op = doc
        .operations
        .get(None)
        .map_err(|_| UserError::invalid("Bulk queries must contain exactly one operation."))?;
    if op.operation_type != OperationType::Query {
        return Err(UserError::invalid("Bulk operations must be queries."));
    }
    let mut count = 0;
    let depth = connection_depth(&doc, &op.selection_set, &mut count);
    if count == 0 {
        return Err(UserError::invalid(
            "Bulk queries must contain at least one connection.",
        ));
    }
    if count > MAX_CONNECTIONS {
        return Err(UserError::invalid(format!(
            "Bulk queries cannot contain more than {MAX_CONNECTIONS} connections."
        )));
    }
    if depth > MAX_NESTING {
        return Err(UserError::invalid(format!(
            "Bulk queries cannot contain connections with a nesting depth greater than {MAX_NESTING}."
        )));
    }
    Ok(doc.into_inner())
}

/// The deepest nesting of connections under `set`; counts connections into `count`.
fn connection_depth(doc: &ExecutableDocument, set: &SelectionSet, count: &mut usize) -> usize {
    let vars = JsonMap::new();
    doc::collect(doc, &[set], &vars)
        .into_iter()
        .map(|(_, fields)| {
            let own = usize::from(fields[0].selection_set.ty.ends_with("Connection"));
            *count += own;
            let below = doc::sub_selections(&fields)
                .into_iter()
                .map(|s| connection_depth(doc, s, count))
                .max()
                .unwrap_or(0);
            own + below
        })
        .max()
        .unwrap_or(0)
}

/// A bulk query's selections, worked out once for all the nodes they apply to.
struct Plan<'d>(Vec<Step<'d>>);

struct Step<'d> {
    /// The response key, already written as `"key":`.
    key: Vec<u8>,
    name: &'d str,
    args: JsonMap,
    kind: Kind<'d>,
}

enum Kind<'d> {
    Leaf,
    /// An object or a list of objects, written inline.
    Inline(Plan<'d>),
    /// A connection: its nodes become lines of their own.
    Nodes(Plan<'d>),
}

impl<'d> Plan<'d> {
    fn new(doc: &'d ExecutableDocument, sets: &[&'d SelectionSet]) -> Self {
        let vars = JsonMap::new();
        let steps = doc::collect(doc, sets, &vars)
            .into_iter()
            .map(|(key, fields)| {
                let field = fields[0];
                let sub = doc::sub_selections(&fields);
                let kind = if sub.iter().all(|s| s.selections.is_empty()) {
                    Kind::Leaf
                } else if field.selection_set.ty.ends_with("Connection") {
                    Kind::Nodes(Plan::new(doc, &node_selections(doc, &sub)))
                } else {
                    Kind::Inline(Plan::new(doc, &sub))
                };
                let mut encoded = serde_json::to_vec(key.as_str()).unwrap_or_default();
                encoded.push(b':');
                Step {
                    key: encoded,
                    name: field.name.as_str(),
                    args: doc::arguments(field, &vars),
                    kind,
                }
            })
            .collect();
        Plan(steps)
    }
}

/// The selections on one node of a connection: `edges { node { … } }` and `nodes { … }`.
fn node_selections<'d>(
    doc: &'d ExecutableDocument,
    conn: &[&'d SelectionSet],
) -> Vec<&'d SelectionSet> {
    let vars = JsonMap::new();
    let mut sets = Vec::new();
    for (_, fields) in doc::collect(doc, conn, &vars) {
        match fields[0].name.as_str() {
            "nodes" => sets.extend(doc::sub_selections(&fields)),
            "edges" => {
                let edge = doc::sub_selections(&fields);
                for (_, node) in doc::collect(doc, &edge, &vars) {
                    if node[0].name == "node" {
                        sets.extend(doc::sub_selections(&node));
                    }
                }
            }
            _ => {}
        }
    }
    sets
}

/// Serializes a bulk query the way Shopify's JSONL files are laid out: one line per
/// connection node; nodes of a nested connection are lifted out of their parent and
/// follow it as lines of their own, with `__parentId`; other objects stay inline.
#[derive(Default)]
struct Writer {
    file: Vec<u8>,
    objects: u64,
    roots: u64,
}

/// Nodes waiting for their parent's line to end.
type Deferred<'s, 'p, 'd> = Vec<(Obj<'s>, &'p Plan<'d>)>;

impl Writer {
    fn root(&mut self, ctx: Ctx<'_>, doc: &ExecutableDocument) {
        let Ok(op) = doc.operations.get(None) else {
            return;
        };
        let root = Obj::Query(ctx, None);
        for step in Plan::new(doc, &[&op.selection_set]).0 {
            match (root.resolve(step.name, &step.args), &step.kind) {
                (Some(Out::Object(Obj::Connection(page))), Kind::Nodes(plan)) => {
                    for node in page.nodes() {
                        self.roots += 1;
                        self.line(node, plan, None);
                    }
                }
                (Some(Out::Object(obj)), Kind::Inline(plan)) => {
                    self.roots += 1;
                    self.line(&obj, plan, None);
                }
                _ => {}
            }
        }
    }

    fn line(&mut self, node: &Obj<'_>, plan: &Plan<'_>, parent: Option<&JsonValue>) {
        self.objects += 1;
        let mut deferred = Vec::new();
        self.file.push(b'{');
        let mut first = true;
        self.object(node, plan, &mut deferred, &mut first);
        if let Some(parent) = parent {
            if !first {
                self.file.push(b',');
            }
            self.file.extend_from_slice(b"\"__parentId\":");
            self.json(parent);
        }
        self.file.extend_from_slice(b"}\n");
        if deferred.is_empty() {
            return;
        }
        let id = match node.resolve("id", &JsonMap::new()) {
            Some(Out::Leaf(id)) => id,
            _ => JsonValue::Null,
        };
        for (child, child_plan) in deferred {
            self.line(&child, child_plan, Some(&id));
        }
    }

    /// Writes the fields of `obj` (without braces); nested connection nodes go to `deferred`.
    fn object<'s, 'p, 'd>(
        &mut self,
        obj: &Obj<'s>,
        plan: &'p Plan<'d>,
        deferred: &mut Deferred<'s, 'p, 'd>,
        first: &mut bool,
    ) {
        for step in &plan.0 {
            if step.name == "__typename" {
                self.key(&step.key, first);
                self.json(&obj.type_name().into());
                continue;
            }
            match (obj.resolve(step.name, &step.args), &step.kind) {
                (Some(Out::Object(Obj::Connection(page))), Kind::Nodes(node_plan)) => {
                    deferred.extend(page.nodes().map(|n| (n.clone(), node_plan)));
                }
                (Some(Out::Object(inner)), Kind::Inline(inner_plan)) => {
                    self.key(&step.key, first);
                    self.file.push(b'{');
                    self.object(&inner, inner_plan, deferred, &mut true);
                    self.file.push(b'}');
                }
                (Some(Out::List(items)), Kind::Inline(item_plan)) => {
                    self.key(&step.key, first);
                    self.file.push(b'[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            self.file.push(b',');
                        }
                        self.file.push(b'{');
                        self.object(item, item_plan, deferred, &mut true);
                        self.file.push(b'}');
                    }
                    self.file.push(b']');
                }
                (Some(Out::Leaf(v)), _) => {
                    self.key(&step.key, first);
                    self.json(&v);
                }
                _ => {}
            }
        }
    }

    fn key(&mut self, encoded: &[u8], first: &mut bool) {
        if !std::mem::take(first) {
            self.file.push(b',');
        }
        self.file.extend_from_slice(encoded);
    }

    fn json(&mut self, v: &JsonValue) {
        // Writing to a Vec cannot fail and a JSON value always serializes.
        let _ = serde_json::to_writer(&mut self.file, v);
    }
}
