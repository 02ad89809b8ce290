use std::time::Instant;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;
use crate::auth::activity::Filter;

/// A `width` x `height` picture in `format`, a gradient so JPEG has
/// something to keep.
fn picture(width: u32, height: u32, format: ImageFormat) -> Vec<u8> {
    let image = RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 120]));
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(image).write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A PNG claiming `width` x `height` with the start of its pixel data
/// only (a real bomb's zeros compress a thousand to one): decoding it in
/// full would fail as unreadable, or take minutes and gigabytes.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, width, height);
    encoder.set_color(png::ColorType::Rgb);
    drop(encoder.write_header().unwrap());
    // Dropping the writer ended the file; the pixel data goes before that.
    let end = out.len() - 12;
    assert_eq!(&out[end + 4..end + 8], b"IEND");
    out.truncate(end);
    let mut zeros = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    std::io::Write::write_all(&mut zeros, &[0; 4096]).unwrap();
    let data = zeros.finish().unwrap();
    let mut crc = flate2::Crc::new();
    crc.update(b"IDAT");
    crc.update(&data);
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(b"IDAT");
    out.extend_from_slice(&data);
    out.extend_from_slice(&crc.sum().to_be_bytes());
    out
}

/// A real 16 x 16 JPEG whose frame header is changed to claim `width` x
/// `height`: a few hundred bytes that would decode to billions of pixels.
fn jpeg_claiming(width: u16, height: u16) -> Vec<u8> {
    let mut out = picture(16, 16, ImageFormat::Jpeg);
    let frame = out.windows(2).position(|w| w == [0xFF, 0xC0]).expect("a baseline frame header");
    out[frame + 5..frame + 7].copy_from_slice(&height.to_be_bytes());
    out[frame + 7..frame + 9].copy_from_slice(&width.to_be_bytes());
    out
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images").join(name)).unwrap()
}

fn sizes(encoded: &Encoded) -> Vec<(u32, u32)> {
    encoded.files.iter().map(|(size, _)| (size.width, size.height)).collect()
}

#[test]
fn the_format_comes_from_the_bytes_not_the_name() {
    let png = encode(&picture(40, 30, ImageFormat::Png), "holiday.jpg").unwrap();
    assert!(png.files[0].0.url.ends_with(".png"), "{:?}", png.files[0].0);
    assert_eq!(image::guess_format(&png.files[0].1).unwrap(), ImageFormat::Png);
    let jpeg = encode(&picture(40, 30, ImageFormat::Jpeg), "diagram.png").unwrap();
    assert!(jpeg.files[0].0.url.ends_with(".jpg"), "{:?}", jpeg.files[0].0);
    assert!(matches!(encode(b"<svg xmlns='http://www.w3.org/2000/svg'/>", "knee.png"), Err(ImageError::NotAnImage)));
}

#[test]
fn files_that_are_not_jpeg_png_or_webp_are_refused() {
    for (bytes, name) in [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj".to_vec(), "referral.pdf"),
        (b"GIF89a\x01\x00\x01\x00\x80\x00\x00".to_vec(), "knee.gif"),
        (b"just some text that was renamed".to_vec(), "knee.jpg"),
        (Vec::new(), "empty.png"),
        (b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00".to_vec(), "knee.bmp"),
    ] {
        let refused = encode(&bytes, name).unwrap_err();
        assert!(matches!(refused, ImageError::NotAnImage), "{name}: {refused:?}");
        assert_eq!(
            refused.to_string(),
            "This file is not a JPEG, PNG or WebP image. Choose a photo or picture saved in one of those formats."
        );
    }
}

#[test]
fn an_image_bomb_is_refused_from_its_header_before_decoding() {
    let started = Instant::now();
    for (bytes, width, height) in [
        (png_header_only(100_000, 100_000), 100_000, 100_000),
        // A side too long, though the pixels in all would be few.
        (png_header_only(20_000, 10), 20_000, 10),
        (jpeg_claiming(60_000, 60_000), 60_000, 60_000),
    ] {
        match encode(&bytes, "bomb.png") {
            Err(ImageError::TooManyPixels { width: w, height: h }) => assert_eq!((w, h), (width, height)),
            other => panic!("{width} x {height}: {other:?}"),
        }
    }
    // Decoding ten billion pixels would take minutes and 30 GB.
    assert!(started.elapsed().as_secs() < 2, "{:?}", started.elapsed());
    let message = ImageError::TooManyPixels { width: 30_000, height: 30_000 }.to_string();
    assert_eq!(
        message,
        "This image is 30,000 x 30,000 pixels; images may be at most 12,000 pixels on a side and 40 million pixels in all. Make it smaller and try again."
    );
}

#[test]
fn a_file_cut_short_is_unreadable_not_a_crash() {
    let bytes = png_header_only(4000, 3000);
    assert!(matches!(encode(&bytes, "cut-short.png"), Err(ImageError::Unreadable { .. })));
}

#[test]
fn uploads_over_the_size_limit_are_refused_unread() {
    let mut bytes = picture(10, 10, ImageFormat::Png);
    bytes.resize(MAX_UPLOAD_BYTES + 1, 0);
    assert!(matches!(encode(&bytes, "big.png"), Err(ImageError::FileTooLarge { .. })));
}

#[test]
fn wide_pictures_get_both_widths_and_narrow_ones_are_never_made_larger() {
    assert_eq!(sizes(&encode(&picture(2000, 1000, ImageFormat::Jpeg), "a.jpg").unwrap()), [(1600, 800), (800, 400)]);
    assert_eq!(sizes(&encode(&picture(1000, 667, ImageFormat::Png), "b.png").unwrap()), [(1000, 667), (800, 534)]);
    assert_eq!(sizes(&encode(&picture(600, 300, ImageFormat::Jpeg), "c.jpg").unwrap()), [(600, 300)]);
    assert_eq!(sizes(&encode(&picture(800, 10, ImageFormat::Jpeg), "d.jpg").unwrap()), [(800, 10)]);
    // Much wider than 1600: averaged down first, then resized.
    assert_eq!(sizes(&encode(&picture(5000, 1000, ImageFormat::Jpeg), "e.jpg").unwrap()), [(1600, 320), (800, 160)]);
    // Each file is what its name says.
    let encoded = encode(&picture(2000, 1000, ImageFormat::Png), "e.png").unwrap();
    for (size, bytes) in &encoded.files {
        let decoded = image::load_from_memory(bytes).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (size.width, size.height));
        assert_eq!(ImageName::parse(&size.url).map(|n| (n.width, n.height)), Some((size.width, size.height)));
        assert_eq!(size.bytes, bytes.len());
    }
}

#[test]
fn names_share_a_stem_from_the_large_files_hash() {
    let bytes = picture(1200, 900, ImageFormat::Jpeg);
    let first = encode(&bytes, "Knee Brace (final).JPG").unwrap();
    let hash = hex(&Sha256::digest(&first.files[0].1));
    assert_eq!(first.stem, format!("knee-brace-final-{}", &hash[..10]));
    assert_eq!(first.files[0].0.url, format!("/static/images/{}-1200x900.jpg", first.stem));
    assert_eq!(first.files[1].0.url, format!("/static/images/{}-800x600.jpg", first.stem));
    assert_eq!(encode(&bytes, "Knee Brace (final).JPG").unwrap().stem, first.stem, "the same upload, the same names");
    let other = encode(&picture(1200, 901, ImageFormat::Jpeg), "Knee Brace (final).JPG").unwrap();
    assert_ne!(other.stem, first.stem, "another picture with the same file name");
}

#[test]
fn names_are_plain_whatever_the_file_was_called() {
    assert_eq!(slug_of("IMG_2041 (1).HEIC.jpg"), "img-2041-1-heic");
    assert_eq!(slug_of("C:\\Users\\jane\\Épaule droite.png"), "paule-droite");
    assert_eq!(slug_of("../../etc/passwd"), "passwd");
    assert_eq!(slug_of("??.png"), "picture");
    assert_eq!(slug_of(""), "picture");
    assert!(slug_of(&"a".repeat(300)).len() <= 50);
}

#[test]
fn the_exif_orientation_is_applied_so_phone_photos_stay_upright() {
    // Stored 60 x 20, red on the left and blue on the right, tagged
    // "turn 90 degrees clockwise to show": upright it is 20 x 60, red on top.
    let encoded = encode(&fixture("sideways.jpg"), "sideways.jpg").unwrap();
    assert_eq!(sizes(&encoded), [(20, 60)]);
    let upright = image::load_from_memory(&encoded.files[0].1).unwrap().to_rgb8();
    let (top, bottom) = (upright.get_pixel(10, 5), upright.get_pixel(10, 55));
    assert!(top[0] > 150 && top[2] < 100, "red on top: {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "blue at the bottom: {bottom:?}");
}

#[test]
fn a_sideways_photo_is_sized_by_its_upright_width() {
    // The same orientation on a large photo: 3000 x 2000 stored is
    // 2000 x 3000 upright, so 1600 x 2400.
    let mut bytes = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut bytes, 80);
    let exif = fixture_exif_orientation_6();
    image::ImageEncoder::set_exif_metadata(&mut encoder, exif).unwrap();
    let image = RgbImage::from_pixel(3000, 2000, Rgb([90, 90, 90]));
    encoder.encode_image(&image).unwrap();
    assert_eq!(sizes(&encode(&bytes, "tall.jpg").unwrap()), [(1600, 2400), (800, 1200)]);
}

/// A little-endian TIFF block holding one tag: Orientation = 6.
fn fixture_exif_orientation_6() -> Vec<u8> {
    let mut tiff = b"II*\x00\x08\x00\x00\x00".to_vec();
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&[0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff
}

#[test]
fn the_stored_files_carry_no_exif_and_no_gps_position() {
    let original = fixture("gps-photo.jpg");
    // The fixture does hold what must not get through.
    assert!(contains(&original, b"Exif\0\0") && contains(&original, b"PhoneMaker"));
    let encoded = encode(&original, "gps-photo.jpg").unwrap();
    assert_eq!(sizes(&encoded), [(1200, 900), (800, 600)]);
    for (size, bytes) in &encoded.files {
        assert!(!contains(bytes, b"Exif"), "{}", size.url);
        assert!(!contains(bytes, &[0xFF, 0xE1]), "an APP1 segment in {}", size.url);
        assert!(!contains(bytes, b"PhoneMaker") && !contains(bytes, b"2026:11:20"), "{}", size.url);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn webp_becomes_jpeg_unless_it_is_see_through() {
    let opaque = encode(&picture(50, 40, ImageFormat::WebP), "photo.webp").unwrap();
    assert!(opaque.files[0].0.url.ends_with(".jpg"), "{:?}", opaque.files[0].0);
    let mut clear = Cursor::new(Vec::new());
    let image = RgbaImage::from_fn(50, 40, |x, _| Rgba([200, 10, 10, if x < 25 { 0 } else { 255 }]));
    DynamicImage::ImageRgba8(image).write_to(&mut clear, ImageFormat::WebP).unwrap();
    let clear = encode(&clear.into_inner(), "logo.webp").unwrap();
    assert!(clear.files[0].0.url.ends_with(".png"), "{:?}", clear.files[0].0);
    let back = image::load_from_memory(&clear.files[0].1).unwrap().to_rgba8();
    assert_eq!(back.get_pixel(0, 0)[3], 0, "transparency kept");
}

#[test]
fn alt_text_is_one_line_required_and_not_too_long() {
    assert!(matches!(AltText::parse(" \n\t "), Err(ImageError::NoAltText)));
    assert_eq!(AltText::parse("  A therapist\nchecking a knee ").unwrap().as_str(), "A therapist checking a knee");
    let long = "a".repeat(MAX_ALT_CHARS + 1);
    assert!(matches!(AltText::parse(&long), Err(ImageError::AltTextTooLong { chars }) if chars == MAX_ALT_CHARS + 1));
    assert!(AltText::parse(&"é".repeat(MAX_ALT_CHARS)).is_ok(), "characters are counted, not bytes");
}

#[test]
fn markdown_for_a_picture_renders_back_to_its_alt_text() {
    let url = "/static/images/knee-3f9a1c2b7d-1600x1067.jpg";
    assert_eq!(markdown_for("A knee brace", url), format!("![A knee brace]({url})"));
    for alt in ["Knee [left] and *right*", "A back\\slash, an_underscore and `code`", "Size <10 cm> !"] {
        let markdown = markdown_for(alt, url);
        let rendered = crate::render::render(&markdown);
        assert_eq!(rendered.links.len(), 1, "{markdown}");
        assert_eq!(rendered.links[0].text, alt, "{markdown}");
        assert_eq!(rendered.links[0].dest, url);
    }
    assert_eq!(markdown_for("x", "/static/a b.jpg"), "![x](</static/a b.jpg>)");
}

#[test]
fn an_upload_is_saved_in_the_static_folder_and_noted_in_the_activity_record() {
    let (_data, staff, jane) = crate::auth::test_store(1_000);
    let static_dir = tempfile::tempdir().unwrap();
    let by = Actor::person(&jane);
    let uploaded =
        upload(static_dir.path(), &staff, &by, &fixture("gps-photo.jpg"), "Neck.jpg", "A therapist's hands", 2_000)
            .unwrap();
    assert_eq!(uploaded.markdown, format!("![A therapist's hands]({})", uploaded.sizes[0].url));
    for size in &uploaded.sizes {
        let path = file_path(static_dir.path(), &size.url);
        assert_eq!(std::fs::read(&path).unwrap().len(), size.bytes, "{}", path.display());
    }
    let record = staff.activity(&Filter { kind: Some(Kind::ImageUploaded), ..Filter::default() }, 10).unwrap();
    assert_eq!(record.len(), 1);
    assert_eq!(
        (record[0].subject.as_str(), record[0].detail.as_str()),
        (image_subject(&uploaded.stem).as_str(), "A therapist's hands")
    );
    assert_eq!(record[0].account_id, Some(jane.id));

    let listed = stored(static_dir.path()).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].stem, uploaded.stem);
    assert_eq!(listed[0].sizes, uploaded.sizes);
    assert!(shows(&format!("Text\n\n{}\n", uploaded.markdown), &uploaded.stem));
    assert!(!shows("![x](/static/images/other-0123456789-800x600.jpg)", &uploaded.stem));

    // Nothing is written or noted for a refused upload.
    let no_file = upload(static_dir.path(), &staff, &by, b"", "", "Alt", 3_000).unwrap_err();
    assert!(matches!(no_file, ImageError::NoFile));
    let refused = upload(static_dir.path(), &staff, &by, b"not a picture", "x.jpg", "Alt", 3_000).unwrap_err();
    assert!(refused.is_the_senders());
    let no_alt = upload(static_dir.path(), &staff, &by, &fixture("gps-photo.jpg"), "x.jpg", " ", 3_000).unwrap_err();
    assert!(matches!(no_alt, ImageError::NoAltText));
    assert_eq!(std::fs::read_dir(static_dir.path().join(FOLDER)).unwrap().count(), 2);
    assert_eq!(staff.activity(&Filter { kind: Some(Kind::ImageUploaded), ..Filter::default() }, 10).unwrap().len(), 1);
}
