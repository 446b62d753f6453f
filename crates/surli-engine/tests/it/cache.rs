//! The compiled-artifact cache: compile once, load from memory or disk,
//! and never trust a file that is not exactly what was written.

use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};
use surli_engine::{
    ArtifactCache, ArtifactSource, CacheStats, EngineOptions, EpochSource, Flavour, SurliEngine,
};

fn engine(flavour: Flavour) -> SurliEngine {
    SurliEngine::new(EngineOptions {
        flavour,
        epoch: EpochSource::Manual,
    })
    .unwrap()
}

/// The smallest component there is, made distinct by a custom section, so
/// each test has its own cache key and compiles in a moment.
fn component(tag: &str) -> (Vec<u8>, [u8; 32]) {
    let mut bytes = b"\0asm\x0d\x00\x01\x00".to_vec();
    let name = b"surli-test";
    let payload = tag.as_bytes();
    let size = 1 + name.len() + payload.len();
    assert!(
        size < 128 && name.len() < 128,
        "one-byte LEB128 lengths only"
    );
    bytes.push(0); // custom section
    bytes.push(u8::try_from(size).unwrap());
    bytes.push(u8::try_from(name.len()).unwrap());
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    let sha = Sha256::digest(&bytes).into();
    (bytes, sha)
}

fn artifacts(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "cwasm"))
        .collect();
    files.sort();
    files
}

#[test]
fn a_component_compiles_once_per_engine_in_memory() {
    let engine = engine(Flavour::Guarded);
    let cache = ArtifactCache::in_memory();
    let (wasm, sha) = component("memory");
    let first = cache.get_or_compile(&engine, &wasm, &sha).unwrap();
    let second = cache.get_or_compile(&engine, &wasm, &sha).unwrap();
    assert_eq!(first.source, ArtifactSource::Compiled);
    assert_eq!(second.source, ArtifactSource::Memory);
    assert_eq!(first.artifact_bytes, None, "nothing was serialized");

    // Another engine cannot run this engine's component: it compiles anew.
    let other = self::engine(Flavour::Guarded);
    let third = cache.get_or_compile(&other, &wasm, &sha).unwrap();
    assert_eq!(third.source, ArtifactSource::Compiled);
    let stats = cache.stats();
    assert_eq!((stats.memory_hits, stats.misses), (1, 2));
}

#[test]
fn concurrent_first_loads_compile_once() {
    let engine = engine(Flavour::Guarded);
    let cache = ArtifactCache::in_memory();
    let (wasm, sha) = component("concurrent");
    std::thread::scope(|scope| {
        for _ in 0..8 {
            scope.spawn(|| cache.get_or_compile(&engine, &wasm, &sha).unwrap());
        }
    });
    let stats = cache.stats();
    assert_eq!((stats.misses, stats.memory_hits), (1, 7), "{stats:?}");
}

#[test]
fn a_second_process_loads_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (wasm, sha) = component("disk");
    let written = ArtifactCache::with_dir(dir.path())
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    assert_eq!(written.source, ArtifactSource::Compiled);
    assert!(written.artifact_bytes.unwrap() > 0);
    assert_eq!(artifacts(dir.path()).len(), 1);

    // A new cache and a new engine stand for a new process.
    let cache = ArtifactCache::with_dir(dir.path());
    let read = cache
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    assert_eq!(read.source, ArtifactSource::Disk);
    assert_eq!(read.artifact_bytes, written.artifact_bytes);
    let stats = cache.stats();
    assert_eq!(stats.disk_hits, 1);
    assert_eq!(stats.bytes_read, written.artifact_bytes.unwrap());
    assert_eq!(stats.misses, 0);

    // The fast flavour has its own artifact.
    let fast = ArtifactCache::with_dir(dir.path())
        .get_or_compile(&engine(Flavour::Fast), &wasm, &sha)
        .unwrap();
    assert_eq!(fast.source, ArtifactSource::Compiled);
    assert_eq!(artifacts(dir.path()).len(), 2);
}

/// Writes an artifact, lets `damage` change its file, and returns what a
/// fresh cache made of it.
fn after_damage(tag: &str, damage: impl FnOnce(&Path, &[u8])) -> (ArtifactSource, CacheStats) {
    let dir = tempfile::tempdir().unwrap();
    let (wasm, sha) = component(tag);
    ArtifactCache::with_dir(dir.path())
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    let [path] = artifacts(dir.path()).try_into().unwrap();
    let bytes = std::fs::read(&path).unwrap();
    damage(&path, &bytes);

    let cache = ArtifactCache::with_dir(dir.path());
    let loaded = cache
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    // Whatever was wrong, the file is whole again afterwards.
    let again = ArtifactCache::with_dir(dir.path())
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    assert_eq!(again.source, ArtifactSource::Disk, "the file was rewritten");
    (loaded.source, cache.stats())
}

#[test]
fn a_corrupt_artifact_is_rejected_and_recompiled() {
    let (source, stats) = after_damage("corrupt", |path, bytes| {
        // A byte in the middle of the artifact: only the checksum can
        // tell.
        let mut bytes = bytes.to_vec();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(path, bytes).unwrap();
    });
    assert_eq!(source, ArtifactSource::Compiled);
    assert_eq!(
        (stats.rejected_files, stats.misses, stats.disk_hits),
        (1, 1, 0)
    );
}

#[test]
fn a_truncated_artifact_is_rejected_and_recompiled() {
    for keep in [0, 10, 100] {
        let (source, stats) = after_damage("truncated", |path, bytes| {
            let keep = keep.min(bytes.len() - 1);
            std::fs::write(path, &bytes[..keep]).unwrap();
        });
        assert_eq!(source, ArtifactSource::Compiled, "kept {keep} bytes");
        assert_eq!(stats.rejected_files, 1);
    }
    let (source, stats) = after_damage("truncated", |path, bytes| {
        std::fs::write(path, &bytes[..bytes.len() - 1]).unwrap();
    });
    assert_eq!(
        (source, stats.rejected_files),
        (ArtifactSource::Compiled, 1)
    );
}

#[test]
fn an_artifact_for_another_engine_or_component_is_rejected() {
    // The trailer is the last 89 bytes; its engine hash starts 44 bytes in
    // (magic 8, format 4, component hash 32).
    let (source, stats) = after_damage("foreign-engine", |path, bytes| {
        let mut bytes = bytes.to_vec();
        let at = bytes.len() - 89 + 44;
        bytes[at] ^= 1;
        std::fs::write(path, bytes).unwrap();
    });
    assert_eq!(
        (source, stats.rejected_files),
        (ArtifactSource::Compiled, 1)
    );

    // Another component's file under this one's name.
    let (source, stats) = after_damage("foreign-component", |path, _| {
        let dir = tempfile::tempdir().unwrap();
        let (wasm, sha) = component("someone else");
        ArtifactCache::with_dir(dir.path())
            .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
            .unwrap();
        let [other] = artifacts(dir.path()).try_into().unwrap();
        std::fs::copy(other, path).unwrap();
    });
    assert_eq!(
        (source, stats.rejected_files),
        (ArtifactSource::Compiled, 1)
    );

    // What surli wrote before the header became a trailer: the header
    // (format 1) in front of the artifact.
    let (source, stats) = after_damage("format-1", |path, bytes| {
        let (artifact, trailer) = bytes.split_at(bytes.len() - 89);
        let mut old = trailer.to_vec();
        old[8..12].copy_from_slice(&1u32.to_le_bytes());
        old.extend_from_slice(artifact);
        std::fs::write(path, old).unwrap();
    });
    assert_eq!(
        (source, stats.rejected_files),
        (ArtifactSource::Compiled, 1)
    );

    // Not ours at all.
    let (source, stats) = after_damage("garbage", |path, bytes| {
        std::fs::write(path, vec![0x42; bytes.len()]).unwrap();
    });
    assert_eq!(
        (source, stats.rejected_files),
        (ArtifactSource::Compiled, 1)
    );
}

#[test]
fn two_writers_at_once_leave_one_whole_file() {
    let dir = tempfile::tempdir().unwrap();
    let (wasm, sha) = component("racing");
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                // Separate caches and engines: separate processes, as far
                // as the directory can tell.
                ArtifactCache::with_dir(dir.path())
                    .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
                    .unwrap()
            });
        }
    });
    assert_eq!(artifacts(dir.path()).len(), 1);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    let loaded = ArtifactCache::with_dir(dir.path())
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    assert_eq!(loaded.source, ArtifactSource::Disk);
}

#[test]
fn an_unwritable_cache_directory_only_costs_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"in the way").unwrap();
    let cache = ArtifactCache::with_dir(&not_a_dir);
    let (wasm, sha) = component("unwritable");
    let loaded = cache
        .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
        .unwrap();
    assert_eq!(loaded.source, ArtifactSource::Compiled);
    // The path cannot be a directory: it is refused up front, and no write
    // is attempted.
    let stats = cache.stats();
    assert_eq!(stats.write_errors, 0);
    assert!(
        stats
            .dir_refused
            .as_deref()
            .is_some_and(|r| r.contains("cannot create")),
        "{stats:?}"
    );
}

#[cfg(unix)]
mod trust {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};

    use super::*;

    /// Loads a component through a cache on `dir` and returns what the
    /// cache says of it.
    fn load_through(dir: &Path, tag: &str) -> (ArtifactSource, CacheStats) {
        let cache = ArtifactCache::with_dir(dir);
        let (wasm, sha) = component(tag);
        let loaded = cache
            .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
            .unwrap();
        (loaded.source, cache.stats())
    }

    #[test]
    fn a_missing_directory_is_created_owner_only() {
        let base = tempfile::tempdir().unwrap();
        let dir = base.path().join("a").join("artifacts");
        let (_, stats) = load_through(&dir, "owner-only");
        assert_eq!(stats.dir_refused, None);
        assert_eq!(artifacts(&dir).len(), 1);
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700, "{mode:o}");
    }

    #[test]
    fn a_directory_others_may_write_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        for mode in [0o777, 0o720, 0o702] {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            let tag = format!("writable-{mode:o}");
            // A planted artifact under the right name would be read if the
            // directory were used; none is written either.
            let (source, stats) = load_through(dir.path(), &tag);
            assert_eq!(source, ArtifactSource::Compiled);
            assert!(
                stats
                    .dir_refused
                    .as_deref()
                    .is_some_and(|r| r.contains("may write")),
                "{mode:o}: {stats:?}"
            );
            assert_eq!(stats.bytes_written, 0);
            assert!(artifacts(dir.path()).is_empty());
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let (_, stats) = load_through(dir.path(), "writable-fixed");
        assert_eq!(stats.dir_refused, None);
        assert_eq!(artifacts(dir.path()).len(), 1);
    }

    #[test]
    fn a_directory_another_user_owns_is_not_used() {
        let base = tempfile::tempdir().unwrap();
        let probe = base.path().join("probe");
        std::fs::write(&probe, b"").unwrap();
        let me = std::fs::metadata(&probe).unwrap().uid();
        let foreign = if me == 0 {
            // Root can hand a directory to anyone.
            let dir = base.path().join("theirs");
            std::fs::create_dir(&dir).unwrap();
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::os::unix::fs::chown(&dir, Some(4242), None).unwrap();
            dir
        } else {
            // Anyone else finds one at `/`, which root owns and nobody else
            // may write.
            PathBuf::from("/")
        };
        let (source, stats) = load_through(&foreign, "foreign-owner");
        assert_eq!(source, ArtifactSource::Compiled);
        assert!(
            stats
                .dir_refused
                .as_deref()
                .is_some_and(|r| r.contains("owned by user")),
            "{stats:?}"
        );
    }
}

#[test]
fn a_compile_error_is_not_cached() {
    let cache = ArtifactCache::in_memory();
    let wasm = b"\0asm\x0d\x00\x01\x00\xff".to_vec();
    let sha = Sha256::digest(&wasm).into();
    for _ in 0..2 {
        assert!(
            cache
                .get_or_compile(&engine(Flavour::Guarded), &wasm, &sha)
                .is_err()
        );
    }
    assert_eq!(cache.stats().misses, 2);
}

/// Loads `tag`'s component through `cache` and says where it came from.
fn load_tag(cache: &ArtifactCache, engine: &SurliEngine, tag: &str) -> ArtifactSource {
    let (wasm, sha) = component(tag);
    cache.get_or_compile(engine, &wasm, &sha).unwrap().source
}

#[test]
fn memory_holds_its_bound_and_forgets_the_least_recently_loaded_first() {
    let engine = engine(Flavour::Guarded);
    // What one of these components weighs.
    let probe = ArtifactCache::in_memory();
    load_tag(&probe, &engine, "lru-probe");
    let one = probe.stats().memory_bytes;
    assert!(one > 0);

    // Room for two and a half.
    let cache = ArtifactCache::in_memory().with_memory_limit(one * 5 / 2);
    for tag in ["lru-a", "lru-b", "lru-a"] {
        load_tag(&cache, &engine, tag);
    }
    assert_eq!(cache.stats().memory_hits, 1);
    // A third one pushes out b, the least recently loaded (a was loaded
    // again after it).
    assert_eq!(load_tag(&cache, &engine, "lru-c"), ArtifactSource::Compiled);
    let stats = cache.stats();
    assert_eq!(stats.evictions, 1);
    assert!(stats.memory_bytes <= one * 5 / 2, "{stats:?}");
    assert_eq!(load_tag(&cache, &engine, "lru-a"), ArtifactSource::Memory);
    assert_eq!(load_tag(&cache, &engine, "lru-c"), ArtifactSource::Memory);
    assert_eq!(load_tag(&cache, &engine, "lru-b"), ArtifactSource::Compiled);
}

#[test]
fn a_forgotten_component_is_compiled_again_and_its_bytes_are_freed() {
    let guarded = engine(Flavour::Guarded);
    let fast = engine(Flavour::Fast);
    let cache = ArtifactCache::in_memory();
    let (wasm, sha) = component("forget-me");
    for engine in [&guarded, &fast] {
        cache.get_or_compile(engine, &wasm, &sha).unwrap();
    }
    load_tag(&cache, &guarded, "keep-me");
    let before = cache.stats().memory_bytes;
    assert_eq!(cache.forget(&sha), 2, "one per engine");
    assert!(cache.stats().memory_bytes < before);
    assert_eq!(cache.forget(&sha), 0);
    assert_eq!(
        cache.get_or_compile(&guarded, &wasm, &sha).unwrap().source,
        ArtifactSource::Compiled
    );
    assert_eq!(
        load_tag(&cache, &guarded, "keep-me"),
        ArtifactSource::Memory
    );
}

#[test]
fn a_cached_artifact_is_served_without_asking_for_the_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let engine = engine(Flavour::Guarded);
    let (wasm, sha) = component("lazy-bytes");
    // The first load must compile, so it asks.
    let first = ArtifactCache::with_dir(dir.path());
    let cached = first
        .get_or_compile_with(&engine, &sha, || Ok::<_, surli_engine::EngineError>(&wasm))
        .unwrap();
    assert_eq!(cached.source, ArtifactSource::Compiled);
    // Memory and disk answer without the bytes; the source is never called.
    let never = || -> Result<&[u8], surli_engine::EngineError> {
        panic!("the component's bytes were asked for although the artifact is cached")
    };
    let again = first.get_or_compile_with(&engine, &sha, never).unwrap();
    assert_eq!(again.source, ArtifactSource::Memory);
    let restart = ArtifactCache::with_dir(dir.path());
    let disk = restart.get_or_compile_with(&engine, &sha, never).unwrap();
    assert_eq!(disk.source, ArtifactSource::Disk);
    // The source's own error comes back as it was.
    let empty = tempfile::tempdir().unwrap();
    #[derive(Debug)]
    enum Failure {
        NoBytes,
        Engine,
    }
    impl From<surli_engine::EngineError> for Failure {
        fn from(_: surli_engine::EngineError) -> Self {
            Self::Engine
        }
    }
    let error = ArtifactCache::with_dir(empty.path())
        .get_or_compile_with(&engine, &sha, || -> Result<&[u8], Failure> {
            Err(Failure::NoBytes)
        })
        .map(|_| ())
        .unwrap_err();
    assert!(matches!(error, Failure::NoBytes), "{error:?}");
}

#[test]
fn notes_come_back_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let cache = ArtifactCache::with_dir(dir.path());
    assert!(cache.read_note("facts-1").is_none(), "nothing written yet");
    assert!(cache.write_note("facts-1", b"what a read found"));
    assert_eq!(
        ArtifactCache::with_dir(dir.path())
            .read_note("facts-1")
            .unwrap(),
        b"what a read found"
    );
    // Every damage is refused and counted: a flipped byte, a cut, padding.
    let path = dir.path().join("facts-1.note");
    let good = std::fs::read(&path).unwrap();
    let mut flipped = good.clone();
    flipped[3] ^= 0x20;
    let mut padded = good.clone();
    padded.insert(0, b'!');
    for damaged in [flipped, good[..good.len() - 1].to_vec(), padded, Vec::new()] {
        std::fs::write(&path, &damaged).unwrap();
        let fresh = ArtifactCache::with_dir(dir.path());
        assert!(fresh.read_note("facts-1").is_none());
        assert_eq!(fresh.stats().rejected_files, 1);
    }
    // A name that could leave the directory is refused before any I/O.
    for bad in ["", "../escape", "a/b", "dot.name", &"x".repeat(129)] {
        assert!(!cache.write_note(bad, b"x"), "{bad:?}");
        assert!(cache.read_note(bad).is_none(), "{bad:?}");
    }
    // Without a directory there is nowhere to keep notes.
    assert!(!ArtifactCache::in_memory().write_note("facts-1", b"x"));
    let stats = cache.stats();
    assert_eq!((stats.notes_written, stats.notes_read), (1, 0));
}
