//! Every runbook's test cases (`runbooks/*.tests.yaml`) pass, and every conclusion of
//! every tested runbook is reached by at least one passing case.

use ktriage::drive::testing;
use ktriage::runbook::Catalog;
use std::path::PathBuf;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runbook_cases_pass_and_cover_every_conclusion() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("runbooks");
    let catalog = Catalog::builtin();
    assert!(
        catalog.errors.is_empty(),
        "built-in runbooks must load: {:?}",
        catalog.errors
    );
    let files = testing::find_test_files(&[dir]).expect("test files readable");
    let tested: Vec<String> = files
        .iter()
        .filter_map(|f| {
            f.path
                .rsplit('/')
                .next()
                .map(|n| n.trim_end_matches(".tests.yaml").to_string())
        })
        .collect();
    for rb in catalog.iter() {
        assert!(
            tested.contains(&rb.id),
            "runbook {} has no tests file beside it",
            rb.id
        );
    }
    let report = testing::run(&catalog, &files).await;
    assert!(report.passed(), "{}", report.text());
}
