//! What a request path asks for, in the API server's URL layout.

/// `/api/v1/...` has group `""`; `/apis/{group}/{version}/...` the named group.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Version,
    /// `/api`: the legacy group's versions.
    CoreVersions,
    /// `/apis`: every group.
    Groups,
    /// `/apis/{group}`: one group and its versions.
    Group(String),
    /// `/api/v1`, `/apis/{group}/{version}`: the resources of one group version.
    Resources {
        group: String,
        version: String,
    },
    Collection(Target),
    Object {
        target: Target,
        name: String,
    },
    Log {
        namespace: String,
        pod: String,
    },
    /// A subresource ktriage does not serve (`pods/x/exec`, `.../status`): 404.
    Subresource {
        what: String,
    },
    NotFound,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub group: String,
    pub version: String,
    /// Resource name as in the URL: the plural.
    pub plural: String,
    pub namespace: Option<String>,
}

pub fn parse(path: &str) -> Route {
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(percent_decode)
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    match seg.as_slice() {
        ["version"] => Route::Version,
        ["api"] => Route::CoreVersions,
        ["apis"] => Route::Groups,
        ["apis", group] => Route::Group(group.to_string()),
        ["api", version, rest @ ..] => resource_route("", version, rest),
        ["apis", group, version, rest @ ..] => resource_route(group, version, rest),
        _ => Route::NotFound,
    }
}

fn resource_route(group: &str, version: &str, rest: &[&str]) -> Route {
    let target = |plural: &str, namespace: Option<&str>| Target {
        group: group.to_string(),
        version: version.to_string(),
        plural: plural.to_string(),
        namespace: namespace.map(str::to_string),
    };
    match rest {
        [] => Route::Resources {
            group: group.to_string(),
            version: version.to_string(),
        },
        // `namespaces/{ns}/{plural}...` unless it is the Namespace object itself.
        ["namespaces", ns, plural] => Route::Collection(target(plural, Some(ns))),
        ["namespaces", ns, plural, name] => Route::Object {
            target: target(plural, Some(ns)),
            name: name.to_string(),
        },
        ["namespaces", ns, "pods", pod, "log"] if group.is_empty() => Route::Log {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        },
        ["namespaces", _, plural, _, sub] => Route::Subresource {
            what: format!("{plural}/{sub}"),
        },
        [plural] => Route::Collection(target(plural, None)),
        [plural, name] => Route::Object {
            target: target(plural, None),
            name: name.to_string(),
        },
        [plural, _, sub] => Route::Subresource {
            what: format!("{plural}/{sub}"),
        },
        _ => Route::NotFound,
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// A request's query parameters.
pub struct Params(Vec<(String, String)>);

impl Params {
    pub fn parse(query: Option<&str>) -> Params {
        Params(query_pairs(query))
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `watch=true` (or `1`), as the API server reads it.
    pub fn is_watch(&self) -> bool {
        matches!(self.get("watch"), Some("true" | "1"))
    }
}

/// The query string as decoded pairs (`+` is a space, as Go's url.ParseQuery reads it).
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (
                percent_decode(&k.replace('+', " ")),
                percent_decode(&v.replace('+', " ")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_routes() {
        assert_eq!(parse("/version"), Route::Version);
        assert_eq!(parse("/apis"), Route::Groups);
        assert_eq!(
            parse("/api/v1"),
            Route::Resources {
                group: String::new(),
                version: "v1".into()
            }
        );
        assert_eq!(
            parse("/api/v1/namespaces/shop/pods"),
            Route::Collection(Target {
                group: String::new(),
                version: "v1".into(),
                plural: "pods".into(),
                namespace: Some("shop".into())
            })
        );
        assert_eq!(
            parse("/api/v1/namespaces/shop"),
            Route::Object {
                target: Target {
                    group: String::new(),
                    version: "v1".into(),
                    plural: "namespaces".into(),
                    namespace: None
                },
                name: "shop".into()
            }
        );
        assert_eq!(
            parse("/api/v1/namespaces/shop/pods/web-0/log"),
            Route::Log {
                namespace: "shop".into(),
                pod: "web-0".into()
            }
        );
        assert!(matches!(
            parse("/apis/storage.k8s.io/v1/storageclasses/gp3"),
            Route::Object { ref name, .. } if name == "gp3"
        ));
        assert_eq!(
            parse("/api/v1/namespaces/shop/pods/web-0/exec"),
            Route::Subresource {
                what: "pods/exec".into()
            }
        );
        assert_eq!(parse("/healthz/x/y"), Route::NotFound);
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(
            query_pairs(Some("labelSelector=app%20in%20(a%2Cb)&limit=5&x")),
            vec![
                ("labelSelector".into(), "app in (a,b)".into()),
                ("limit".into(), "5".into()),
                ("x".into(), String::new())
            ]
        );
    }
}
