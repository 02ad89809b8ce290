#!/usr/bin/env python3
"""Writes synthetic content for the scale benchmark (Python 3.11, stdlib only).

    python3 benches/generate.py --pages 1000 --out /tmp/site-1000 [--mdbook /tmp/book-1000]

The content is in this site's format: `site.toml` (the keys of
content/site.toml, copied from it when it is there) and article folders of
`--sections` pages each: an `index.md` plus section files, every one with
`+++` front matter (title, description of 50-160 characters, weight,
updated = 2026-11-20; no review, which only a reviewer's
sign-off may claim) and a body of about `--words` words with `##` and
`###` headings, bulleted and numbered lists, a callout now and then, and
links to other pages of the same article (`/<article>/<slug>/`), all valid.

With `--mdbook DIR` it also writes the same pages as an mdBook: `book.toml`,
`src/SUMMARY.md` listing every page (articles as chapters, sections nested
under them), and each page's markdown without its front matter, with the
title as the `#` heading mdBook pages start with.

The text is made from a fixed vocabulary with a fixed seed, so every run
writes the same bytes.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
from pathlib import Path

UPDATED = "2026-11-20"

# Plain words, so pages read at about the site's grade limit and the check
# does not print a warning for every page.
SUBJECTS = [
    "your therapist", "the muscle", "a tight knot", "the needle", "your body", "the sore spot",
    "your neck", "your back", "the treatment", "a short session", "your doctor", "gentle stretching",
    "the pain", "a warm pack", "your shoulder", "the first visit", "your posture", "a daily walk",
]
VERBS = [
    "can ease", "may help", "often calms", "will check", "should loosen", "can reduce",
    "may change", "helps with", "works on", "can relax", "looks at", "may improve",
]
OBJECTS = [
    "the tension in your neck", "old pain", "stiff joints", "your sleep", "tight muscles",
    "the way you move", "headaches", "blood flow", "the sore area", "your range of motion",
    "day to day aches", "muscle knots", "your energy", "pain after work",
]
TAILS = [
    "over a few weeks", "for most people", "after one or two visits", "when you rest well",
    "if you keep active", "with some home exercises", "in many cases", "at your own pace",
]
TOPICS = [
    "Neck Pain", "Back Pain", "Shoulder Pain", "Knee Pain", "Hip Pain", "Tension Headaches",
    "Sports Injuries", "Tennis Elbow", "Plantar Heel Pain", "Jaw Pain", "Sciatica", "Posture",
]
SECTION_NAMES = [
    "What It Is", "How It Works", "Who Can Benefit", "What to Expect", "Side Effects", "Safety",
    "Aftercare", "Exercises at Home", "When to Call", "Costs and Cover", "First Visit",
    "How Long It Takes", "Other Treatments", "Questions to Ask", "Sleep and Rest", "Work and Rest",
]
HEADINGS = [
    "Why It Happens", "Signs to Look For", "What Helps", "What to Avoid", "How to Prepare",
    "During the Visit", "Afterwards", "At Home", "Common Questions", "Good to Know",
    "Small Steps", "Getting Started", "Staying Active", "Warning Signs", "Your Plan",
]
CALLOUTS = ["NON-URGENT", "URGENT", "INFO"]


def sentence(rng: random.Random) -> str:
    s = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(TAILS)}."
    return s[0].upper() + s[1:]


def paragraph(rng: random.Random, n: int) -> str:
    return " ".join(sentence(rng) for _ in range(n))


def words(text: str) -> int:
    return len(text.split())


class Article:
    def __init__(self, number: int, sections: int, rng: random.Random):
        topic = TOPICS[number % len(TOPICS)]
        self.slug = f"article-{number:04d}"
        self.title = f"Dry Needling for {topic} (Guide {number})"
        self.about = f"Dry needling for {topic.lower()}"
        # (slug, title): the index page has slug "" (its address is /<article>/).
        self.pages = [("", self.title)]
        for i in range(1, sections):
            name = SECTION_NAMES[i % len(SECTION_NAMES)]
            self.pages.append((f"section-{i:03d}", f"{name} ({topic}, Part {i})"))

    def url(self, slug: str) -> str:
        return f"/{self.slug}/" + (f"{slug}/" if slug else "")


def description(rng: random.Random, title: str) -> str:
    text = f"About {title.lower()}: {rng.choice(OBJECTS)}, {rng.choice(OBJECTS)} and what you can do at home."
    if len(text) < 50:
        text += " Written for patients and their families."
    return text[:157].rstrip(" ,:") + ("." if not text[:157].endswith(".") else "")


def body(article: Article, index: int, rng: random.Random, target_words: int) -> str:
    others = [p for j, p in enumerate(article.pages) if j != index]
    parts: list[str] = [paragraph(rng, 4)]
    used_headings: set[str] = set()
    h = 0
    while words("\n".join(parts)) < target_words - 90:
        h += 1
        heading = HEADINGS[(index + h) % len(HEADINGS)]
        if heading in used_headings:
            heading = f"{heading}, Part {h}"
        used_headings.add(heading)
        parts.append(f"## {heading}")
        parts.append(paragraph(rng, 4))
        parts.append("\n".join(f"- {sentence(rng)}" for _ in range(4)))
        links = " ".join(f"Read more in [{t.lower()}]({article.url(s)})." for s, t in rng.sample(others, min(2, len(others))))
        parts.append(f"{paragraph(rng, 2)} {links}")
        parts.append(f"### {heading}: Step by Step")
        parts.append("\n".join(f"{n}. {sentence(rng)}" for n in range(1, 4)))
        parts.append(paragraph(rng, 3))
        if h % 3 == 0:
            kind = rng.choice(CALLOUTS)
            parts.append(f"> [!{kind}] Talk to your therapist if\n>\n> {sentence(rng)} {sentence(rng)}")
    return "\n\n".join(parts) + "\n"


def generate(pages: int, sections: int, target_words: int, out: Path, mdbook: Path | None, site_toml: Path) -> tuple[int, int]:
    rng = random.Random(20261120)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    if site_toml.is_file():
        shutil.copyfile(site_toml, out / "site.toml")
    else:
        (out / "site.toml").write_text(
            'clinic_name = "Riverside Physical Therapy"\n'
            'base_url = "https://riverside-pt.example"\n'
            'language = "en-US"\n'
            'disclaimer = "This article is general information, not medical advice."\n\n'
            "[contact]\n"
            'phone = "(555) 010-0142"\n'
            'booking_url = "https://riverside-pt.example/book"\n'
        )
    if mdbook is not None:
        if mdbook.exists():
            shutil.rmtree(mdbook)
        (mdbook / "src").mkdir(parents=True)
        (mdbook / "book.toml").write_text(
            '[book]\ntitle = "Synthetic clinic articles"\nlanguage = "en"\nsrc = "src"\n'
        )
        summary = ["# Summary", ""]

    written = 0
    total_words = 0
    number = 0
    while written < pages:
        number += 1
        article = Article(number, min(sections, pages - written), rng)
        folder = out / article.slug
        folder.mkdir()
        for index, (slug, title) in enumerate(article.pages):
            text = body(article, index, rng, target_words)
            total_words += words(text)
            front = [
                "+++",
                f'title = "{title}"',
                f'description = "{description(rng, title)}"',
                f"weight = {index}",
                f"updated = {UPDATED}",
            ]
            if index == 0:
                front.append(f'about = "{article.about}"')
            front.append("+++")
            name = "index.md" if index == 0 else f"{slug}.md"
            (folder / name).write_text("\n".join(front) + "\n\n" + text)
            if mdbook is not None:
                md_dir = mdbook / "src" / article.slug
                md_dir.mkdir(exist_ok=True)
                (md_dir / name).write_text(f"# {title}\n\n{text}")
                indent = "" if index == 0 else "  "
                summary.append(f"{indent}- [{title}]({article.slug}/{name})")
            written += 1
    if mdbook is not None:
        (mdbook / "src" / "SUMMARY.md").write_text("\n".join(summary) + "\n")
    return written, total_words


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, required=True, help="how many pages in all")
    parser.add_argument("--out", type=Path, required=True, help="content folder to write (replaced)")
    parser.add_argument("--mdbook", type=Path, help="also write the same pages as an mdBook here (replaced)")
    parser.add_argument("--sections", type=int, default=50, help="pages per article, index included (default 50)")
    parser.add_argument("--words", type=int, default=800, help="words per page (default 800)")
    parser.add_argument("--site-toml", type=Path, default=Path(__file__).resolve().parent.parent / "content" / "site.toml")
    args = parser.parse_args()
    if args.pages < 1 or args.sections < 3:
        parser.error("--pages must be at least 1 and --sections at least 3")
    pages, total = generate(args.pages, args.sections, args.words, args.out, args.mdbook, args.site_toml)
    print(f"wrote {pages} pages ({total} words, {total // pages} per page) to {args.out}"
          + (f" and an mdBook to {args.mdbook}" if args.mdbook else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
