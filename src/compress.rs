//! Compressing text responses once, at the highest levels, since each
//! version of a file is compressed once and sent many times.

use std::io::Write;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::with_capacity(data.len() / 3), flate2::Compression::best());
    encoder.write_all(data).expect("writing to memory cannot fail");
    encoder.finish().expect("writing to memory cannot fail")
}

pub fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() / 3);
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("writing to memory cannot fail");
    out
}

/// Whether a file is text worth compressing, by its extension.
pub fn is_compressible(path: &str) -> bool {
    const TEXT: &[&str] = &["html", "css", "js", "xml", "txt", "svg", "json", "webmanifest"];
    path.rsplit_once('.').is_some_and(|(_, ext)| TEXT.contains(&ext)) || path.ends_with("_redirects")
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    #[test]
    fn both_encodings_round_trip() {
        let text = "Dry needling ".repeat(100);
        let mut back = String::new();
        flate2::read::GzDecoder::new(&gzip(text.as_bytes())[..]).read_to_string(&mut back).unwrap();
        assert_eq!(back, text);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &brotli(text.as_bytes())[..], &mut back).unwrap();
        assert_eq!(back, text.as_bytes());
        assert!(brotli(text.as_bytes()).len() < text.len() / 10);
    }
}
