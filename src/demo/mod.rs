//! The demo cluster built into the binary (`ktriage demo`): a snapshot of a broken EKS
//! cluster with several faults, so the whole flow can be tried with no cluster at hand.
//! What it contains: src/demo/README.md.

use crate::source::snapshot::{Snapshot, SnapshotError};
use include_dir::{Dir, DirEntry, include_dir};

static CLUSTER: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/src/demo/cluster");

fn files(dir: &Dir<'_>, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in dir.entries() {
        match entry {
            DirEntry::Dir(d) => files(d, out),
            DirEntry::File(f) => out.push((
                f.path().to_string_lossy().into_owned(),
                f.contents().to_vec(),
            )),
        }
    }
}

pub fn snapshot() -> Result<Snapshot, SnapshotError> {
    let mut all = Vec::new();
    files(&CLUSTER, &mut all);
    all.sort();
    Snapshot::from_files("demo cluster (built in)", all)
}
