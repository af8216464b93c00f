//! One round, one request per distinct query: triage over every runbook and a walk in
//! the same round ask the source for each query once, never once per runbook or step.

use ktriage::drive::Session;
use ktriage::facts::{Answer, BoxFuture, Source, SourceInfo};
use ktriage::facts::{FactError, FactQuery};
use ktriage::runbook::Catalog;
use ktriage::source::snapshot::Snapshot;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;

/// A source that counts what it is asked.
struct Counting {
    inner: Snapshot,
    asked: Mutex<Vec<FactQuery>>,
}

impl Source for Counting {
    fn info(&self) -> &SourceInfo {
        self.inner.info()
    }

    fn fetch<'a>(&'a self, query: &'a FactQuery) -> BoxFuture<'a, Result<Answer, FactError>> {
        self.asked.lock().unwrap().push(query.clone());
        self.inner.fetch(query)
    }
}

#[tokio::test]
async fn each_distinct_query_reaches_the_source_once_per_round() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/examples/pvc-storageclass-not-found/snapshot");
    let source = Counting {
        inner: Snapshot::open(&path).unwrap(),
        asked: Mutex::new(Vec::new()),
    };
    let session = Session::new(source);
    let catalog = Catalog::builtin();
    let round = session.round(&catalog);

    let report = ktriage::drive::triage::triage(&round).await;
    assert_eq!(
        report.suggestions[0].target.as_deref(),
        Some("shop/reports-archive")
    );
    let after_triage = session.source.asked.lock().unwrap().len();
    assert!(after_triage > 0);

    // The walk of the suggestion reuses what triage fetched: the claim, its class, its events.
    let record = round
        .walk(
            catalog.get("pvc-pending").unwrap(),
            Some("shop/reports-archive"),
            &BTreeMap::new(),
        )
        .await;
    assert_eq!(
        record.conclusion.unwrap().code,
        "PVC_STORAGECLASS_NOT_FOUND"
    );

    let asked = session.source.asked.lock().unwrap().clone();
    let mut distinct = asked.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(
        asked.len(),
        distinct.len(),
        "a query was sent twice: {asked:#?}"
    );
    assert_eq!(
        round.cache.sent(),
        asked,
        "the cache's log is what the source saw"
    );
    // The walk read the events and StorageClasses triage had fetched without asking again.
    let walk_asked = &asked[after_triage..];
    assert!(
        !walk_asked
            .iter()
            .any(|q| matches!(q, FactQuery::Events { .. })),
        "{walk_asked:#?}"
    );
}
