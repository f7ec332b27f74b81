//! enwik8: the first 10⁸ bytes of an English Wikipedia dump (the Hutter prize corpus),
//! byte-level language modelling's standard benchmark.
//!
//! Download `http://mattmahoney.net/dc/enwik8.zip` (36 MB) and point `--data` at the zip or at
//! the unzipped `enwik8`. The standard split is the first 90M bytes for training, the next 5M
//! for validation and the last 5M for testing; a smaller file is split in the same 90/5/5
//! proportions.

use std::io::Read;
use std::path::Path;

use crate::byte_corpus::{ByteCorpus, ByteSplits};
use crate::error::{DataError, Result};

/// Whether `path` names enwik8 (`enwik8` or `enwik8.zip`), which selects its standard split.
pub fn is_enwik8(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|name| name == "enwik8" || name == "enwik8.zip")
}

/// Reads enwik8 from its zip (as distributed) or from the raw file.
pub fn open(path: impl AsRef<Path>) -> Result<ByteCorpus> {
    let path = path.as_ref();
    if path.extension().is_some_and(|ext| ext == "zip") {
        let zip_error = |reason: String| DataError::Zip {
            path: path.to_path_buf(),
            reason,
        };
        let file = std::fs::File::open(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let mut archive =
            zip::ZipArchive::new(file).map_err(|e| zip_error(format!("{e}; re-download it")))?;
        let mut member = archive
            .by_name("enwik8")
            .map_err(|e| zip_error(format!("no member `enwik8` ({e})")))?;
        let mut bytes = Vec::with_capacity(member.size() as usize);
        member
            .read_to_end(&mut bytes)
            .map_err(|e| zip_error(format!("member `enwik8` is corrupt ({e}); re-download it")))?;
        ByteCorpus::from_bytes(path, bytes)
    } else {
        ByteCorpus::open(path)
    }
}

/// The standard split: 90% train, 5% valid, 5% test (90M/5M/5M of the real file).
pub fn splits(corpus: &ByteCorpus) -> ByteSplits {
    let len = corpus.bytes.len();
    let train_end = len / 100 * 90 + len % 100 * 90 / 100;
    let valid_end = train_end + (len - train_end) / 2;
    ByteSplits {
        train: 0..train_end,
        valid: train_end..valid_end,
        test: Some(valid_end..len),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_file_splits_90m_5m_5m() {
        let corpus = ByteCorpus::from_bytes("enwik8", vec![0; 100_000_000]).unwrap();
        let splits = splits(&corpus);
        assert_eq!(splits.train, 0..90_000_000);
        assert_eq!(splits.valid, 90_000_000..95_000_000);
        assert_eq!(splits.test, Some(95_000_000..100_000_000));
    }

    #[test]
    fn the_zip_and_the_raw_file_give_the_same_bytes() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("reformer-enwik8-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let content: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(dir.join("enwik8"), &content).unwrap();
        let mut writer =
            zip::ZipWriter::new(std::fs::File::create(dir.join("enwik8.zip")).unwrap());
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        writer.start_file("enwik8", options).unwrap();
        writer.write_all(&content).unwrap();
        writer.finish().unwrap();

        let raw = open(dir.join("enwik8")).unwrap();
        let zipped = open(dir.join("enwik8.zip")).unwrap();
        assert_eq!(raw.bytes, zipped.bytes);
        assert!(is_enwik8(&dir.join("enwik8.zip")));

        std::fs::write(dir.join("enwik8.zip"), b"not a zip").unwrap();
        let corrupt = open(dir.join("enwik8.zip")).unwrap_err();
        assert!(matches!(corrupt, DataError::Zip { .. }), "{corrupt}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
