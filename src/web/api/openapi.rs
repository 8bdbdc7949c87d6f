//! `/api/openapi.json`: the OpenAPI 3 description of the JSON API, written
//! by hand in `openapi.json` beside this file (and checked against the
//! mounted routes and real responses by the `openapi` tests); `/api/docs`:
//! the same document as a readable page, generated from it, so the two can
//! never disagree.

use std::sync::OnceLock;

use rocket::response::content::RawJson;
use rocket::{get, routes, Route};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::domain::error::{AppError, AppResult};
use crate::web::pages::contexts::PageContext;
use crate::web::pages::{Html, Layout};

/// The document, as served.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The order operations are listed in on the page.
const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

pub fn routes() -> Vec<Route> {
    routes![document, docs]
}

/// `GET /api/openapi.json`: the document.
#[get("/openapi.json")]
fn document() -> RawJson<&'static str> {
    RawJson(DOCUMENT)
}

/// `GET /api/docs`: the document as a page.
#[get("/docs")]
fn docs(layout: Layout<'_>) -> AppResult<Html> {
    Ok(layout.render(ApiDocsPage(page_context()?)))
}

/// `api_docs`: the fields [`describe`] works out from the document (kept
/// as JSON: they are the document's own shape, read once).
#[derive(Serialize)]
#[serde(transparent)]
struct ApiDocsPage(&'static Value);

impl PageContext for ApiDocsPage {
    const TEMPLATE: &'static str = "api_docs";
}

/// The page's context, worked out from the document once.
fn page_context() -> AppResult<&'static Value> {
    static CONTEXT: OnceLock<Result<Value, String>> = OnceLock::new();
    CONTEXT
        .get_or_init(|| {
            let document: Value = serde_json::from_str(DOCUMENT)
                .map_err(|e| format!("openapi.json is not JSON: {e}"))?;
            Ok(describe(&document))
        })
        .as_ref()
        .map_err(|message| AppError::internal(std::io::Error::other(message.clone())))
}

/// What `/api/docs` shows of `document`: its operations, grouped by tag, with their
/// parameters, request body and responses, then each schema's fields.
fn describe(document: &Value) -> Value {
    let empty = Map::new();
    let mut operations: Vec<Value> = Vec::new();
    for (path, item) in object(&document["paths"]).unwrap_or(&empty) {
        let shared = item["parameters"].as_array().cloned().unwrap_or_default();
        for method in METHODS {
            if let Some(operation) = item.get(method) {
                operations.push(describe_operation(
                    document, path, method, operation, &shared,
                ));
            }
        }
    }
    // Grouped by tag, in the document's order of tags; untagged ones last.
    let mut groups: Vec<Value> = Vec::new();
    for tag in document["tags"].as_array().into_iter().flatten() {
        let name = text(&tag["name"]);
        let (tagged, rest): (Vec<Value>, Vec<Value>) =
            operations.into_iter().partition(|op| op["tag"] == name);
        operations = rest;
        if !tagged.is_empty() {
            groups.push(json!({
                "name": name,
                "description": markdown(&tag["description"]),
                "operations": tagged,
            }));
        }
    }
    if !operations.is_empty() {
        groups.push(json!({"name": "other", "description": "", "operations": operations}));
    }
    let schemas: Vec<Value> = object(&document["components"]["schemas"])
        .unwrap_or(&empty)
        .iter()
        .map(|(name, schema)| {
            let required = strings(&schema["required"]);
            let fields: Vec<Value> = object(&schema["properties"])
                .unwrap_or(&empty)
                .iter()
                .map(|(field, property)| {
                    json!({
                        "name": field,
                        "type": type_name(property),
                        "schema_ref": schema_ref(property).or(schema_ref(&property["items"])),
                        "required": required.contains(&field.as_str()),
                        "nullable": property["nullable"] == true,
                        "description": markdown(&property["description"]),
                    })
                })
                .collect();
            json!({
                "name": name,
                "description": markdown(&schema["description"]),
                "fields": fields,
                "closed": schema["additionalProperties"] == false,
            })
        })
        .collect();
    json!({
        "title": text(&document["info"]["title"]),
        "version": text(&document["info"]["version"]),
        "openapi": text(&document["openapi"]),
        "description": markdown(&document["info"]["description"]),
        "groups": groups,
        "schemas": schemas,
    })
}

fn describe_operation(
    document: &Value,
    path: &str,
    method: &str,
    operation: &Value,
    shared: &[Value],
) -> Value {
    let own = operation["parameters"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let parameters: Vec<Value> = shared
        .iter()
        .chain(own.iter())
        .map(|parameter| {
            let parameter = resolve(document, parameter);
            json!({
                "name": text(&parameter["name"]),
                "in": text(&parameter["in"]),
                "required": parameter["required"] == true,
                "type": type_name(&parameter["schema"]),
                "description": markdown(&parameter["description"]),
            })
        })
        .collect();
    let body = &operation["requestBody"];
    let request_body = (!body.is_null()).then(|| {
        let body = resolve(document, body);
        let schema = &body["content"]["application/json"]["schema"];
        json!({
            "schema": type_name(schema),
            "schema_ref": schema_ref(schema),
            "required": body["required"] == true,
        })
    });
    let empty = Map::new();
    let responses: Vec<Value> = object(&operation["responses"])
        .unwrap_or(&empty)
        .iter()
        .map(|(status, response)| {
            let response = resolve(document, response);
            let content = object(&response["content"]);
            let (media, schema) = content
                .and_then(|content| content.iter().next())
                .map(|(media, body)| (media.as_str(), &body["schema"]))
                .unwrap_or(("", &Value::Null));
            let headers: Vec<&str> = object(&response["headers"])
                .map(|headers| headers.keys().map(String::as_str).collect())
                .unwrap_or_default();
            json!({
                "status": status,
                "description": markdown(&response["description"]),
                "media": media,
                "schema": type_name(schema),
                "schema_ref": schema_ref(schema),
                "headers": headers,
            })
        })
        .collect();
    // Open to anyone unless every way in needs a scheme.
    let security = operation.get("security").unwrap_or(&document["security"]);
    let needs_login = security
        .as_array()
        .is_some_and(|ways| !ways.is_empty() && ways.iter().all(|way| way != &json!({})));
    json!({
        "method": method.to_uppercase(),
        "tag": text(&operation["tags"][0]),
        "path": path,
        "anchor": format!("{method}-{}", anchor(path)),
        "summary": text(&operation["summary"]),
        "description": markdown(&operation["description"]),
        "needs_login": needs_login,
        "parameters": parameters,
        "request_body": request_body,
        "responses": responses,
    })
}

/// Follows `$ref`s (`#/components/...`) within the document.
fn resolve<'a>(document: &'a Value, mut value: &'a Value) -> &'a Value {
    // A bound, in case of a cycle.
    for _ in 0..8 {
        let Some(target) = value["$ref"].as_str() else {
            break;
        };
        match target
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
        {
            Some(found) => value = found,
            None => break,
        }
    }
    value
}

/// The name of the component schema `schema` refers to, if it does.
fn schema_ref(schema: &Value) -> Option<&str> {
    schema["$ref"]
        .as_str()?
        .strip_prefix("#/components/schemas/")
}

/// A schema, briefly: its name if it is a reference, else its type.
fn type_name(schema: &Value) -> String {
    if let Some(target) = schema["$ref"].as_str() {
        return target.rsplit('/').next().unwrap_or(target).to_owned();
    }
    if let Some(values) = schema["enum"].as_array() {
        let values: Vec<String> = values.iter().map(Value::to_string).collect();
        return values.join(" | ");
    }
    let base = match schema["type"].as_str() {
        Some("array") => format!("array of {}", type_name(&schema["items"])),
        Some("object") if schema["additionalProperties"].is_object() => {
            format!("map of {}", type_name(&schema["additionalProperties"]))
        }
        Some(kind) => match schema["format"].as_str() {
            Some(format) => format!("{kind} ({format})"),
            None => kind.to_owned(),
        },
        None => String::new(),
    };
    let bounded = match (schema["minimum"].as_i64(), schema["maximum"].as_i64()) {
        (Some(low), Some(high)) => format!("{base}, {low} to {high}"),
        (Some(low), None) => format!("{base}, from {low}"),
        _ => base,
    };
    match schema.get("default") {
        Some(default) => format!("{bounded}, default {default}"),
        None => bounded,
    }
}

fn object(value: &Value) -> Option<&Map<String, Value>> {
    value.as_object()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// A description (CommonMark, as OpenAPI has it) as safe HTML.
fn markdown(value: &Value) -> String {
    crate::domain::markdown::to_safe_html(text(value)).to_string()
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

/// A path as an HTML id: `/api/users/{id}` becomes `api-users-id`.
fn anchor(path: &str) -> String {
    path.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_json() {
        let document: Value = serde_json::from_str(DOCUMENT).expect("openapi.json parses");
        assert!(document["openapi"].as_str().unwrap().starts_with("3."));
    }

    #[test]
    fn the_page_lists_every_operation_of_the_document() {
        let document: Value = serde_json::from_str(DOCUMENT).unwrap();
        let documented: usize = document["paths"]
            .as_object()
            .unwrap()
            .values()
            .map(|item| METHODS.iter().filter(|m| item.get(**m).is_some()).count())
            .sum();
        let page = page_context().unwrap();
        let operations: Vec<&Value> = page["groups"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|group| group["operations"].as_array().unwrap())
            .collect();
        assert_eq!(operations.len(), documented);
        let show_user = operations
            .iter()
            .find(|op| op["path"] == "/api/users/{id}" && op["method"] == "GET")
            .unwrap();
        assert_eq!(show_user["parameters"][0]["name"], "id");
        assert_eq!(show_user["responses"][0]["status"], "200");
        assert_eq!(show_user["responses"][0]["schema_ref"], "User");
        assert_eq!(page["groups"][0]["name"], "users");
    }

    #[test]
    fn refs_resolve_and_types_read_briefly() {
        let document = json!({"components": {"schemas": {"A": {"type": "string"}}}});
        let reference = json!({"$ref": "#/components/schemas/A"});
        assert_eq!(resolve(&document, &reference), &json!({"type": "string"}));
        assert_eq!(type_name(&reference), "A");
        assert_eq!(
            type_name(&json!({"type": "array", "items": {"$ref": "#/x/Post"}})),
            "array of Post"
        );
        assert_eq!(
            type_name(&json!({"type": "integer", "minimum": 1, "maximum": 100})),
            "integer, 1 to 100"
        );
        assert_eq!(anchor("/api/users/{id}"), "api-users-id");
    }
}
