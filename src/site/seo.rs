//! What search engines and scanners read: the sitemap, robots.txt,
//! schema.org structured data and the print page's QR code.

use serde_json::json;

use crate::content::{Date, Page, Settings};
use crate::render::RenderedArticle;
use crate::urls;
use crate::util::html::escape;

use super::views::ReferenceView;

pub(crate) fn robots(settings: &Settings) -> String {
    // Staff pages and per-visitor forms are not for search engines.
    format!(
        "User-agent: *\nDisallow: {}\nDisallow: /*/{}\nAllow: /\n\nSitemap: {}{}\n",
        urls::ADMIN,
        urls::COMMENT_FORM,
        settings.base_url,
        urls::SITEMAP
    )
}

/// JSON for inside `<script>`: `<`, `>` and `&` as `\u` escapes, so no text
/// (a title with `</script>` in it) can end the element early.
pub(crate) fn script_safe_json(value: &serde_json::Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

pub(crate) fn publisher(settings: &Settings) -> serde_json::Value {
    json!({ "@type": "MedicalClinic", "name": settings.clinic_name, "url": format!("{}/", settings.base_url), "telephone": settings.contact.phone })
}

/// Schema.org description of one article page, for search engines.
pub(crate) fn medical_web_page(
    settings: &Settings,
    article: &RenderedArticle<'_>,
    page: &Page,
    references: &[ReferenceView<'_>],
    canonical: &str,
) -> serde_json::Value {
    let mut value = json!({
        "@context": "https://schema.org",
        "@type": "MedicalWebPage",
        "name": page.front.title,
        "description": page.front.description,
        "url": canonical,
        "inLanguage": settings.language,
        "audience": { "@type": "MedicalAudience", "audienceType": "Patient" },
        "publisher": publisher(settings),
        "isPartOf": { "@type": "MedicalWebPage", "name": article.title(), "url": format!("{}{}", settings.base_url, article.url()) },
    });
    if let Some(about) = &article.article.index.front.about {
        value["about"] = json!({ "@type": "MedicalTherapy", "name": about });
    }
    // Search engines show review dates as a mark of quality: only a review
    // someone signed off, of the text on the page now, is claimed.
    if let Some(review) = page.review_state().current() {
        value["lastReviewed"] = review.on.iso().into();
        value["reviewedBy"] = json!({ "@type": "Person", "name": review.by });
    }
    if let Some(updated) = page.updated() {
        value["dateModified"] = updated.iso().into();
    }
    let citations: Vec<serde_json::Value> = references.iter().map(|r| r.reference.json_ld()).collect();
    if !citations.is_empty() {
        value["citation"] = citations.into();
    }
    value
}

/// A QR code as inline SVG. It has no `style` attributes, so the strict
/// Content-Security-Policy allows it.
pub(crate) fn qr_svg(url: &str) -> String {
    let code =
        qrcode::QrCode::with_error_correction_level(url, qrcode::EcLevel::M).expect("a web address fits in a QR code");
    code.render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(160, 160)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build()
        .replacen("<svg ", "<svg role=\"img\" aria-labelledby=\"qr-label\" ", 1)
        .replacen("<?xml version=\"1.0\" standalone=\"yes\"?>", "", 1)
}

/// `/sitemap.xml`: every published page with its last review date.
pub(crate) fn sitemap(settings: &Settings, articles: &[RenderedArticle<'_>]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    let mut entry = |path: &str, date: Option<Date>| {
        let lastmod = date.map(|d| format!("<lastmod>{}</lastmod>", d.iso())).unwrap_or_default();
        xml.push_str(&format!("  <url><loc>{}{}</loc>{lastmod}</url>\n", settings.base_url, escape(path)));
    };
    entry("/", articles.iter().filter_map(RenderedArticle::last_modified).max());
    for article in articles {
        for (page, url, _) in article.pages() {
            entry(url, page.last_modified());
        }
    }
    xml.push_str("</urlset>\n");
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_for_script_elements_cannot_close_the_element() {
        let json = script_safe_json(&json!({ "name": "</script><script>alert(1)</script> & \"quotes\"" }));
        assert!(!json.contains('<') && !json.contains('>'), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(back["name"], "</script><script>alert(1)</script> & \"quotes\"");
    }
}
