#!/usr/bin/env python3
"""Holds the documentation to the tree (ctest docs/links; docs/design.md §9).

  python3 tests/tools/check_docs.py [REPO]

Checks, and prints one line per problem (exit 1 when there is any):
  1. every relative link of the Markdown pages (README.md, docs/*.md and every other tracked *.md)
     names a file or folder that exists, and its #anchor a heading of that page (GitHub's slugs);
  2. every repository path a page names in backticks (`src/...`, `scripts/...`, ...) exists;
  3. every "docs/design.md §N" anywhere in the tree (code comments, scripts, pages) and every "§N" in
     docs/design.md itself names a numbered section of docs/design.md ("## §N Title");
  4. no reference to the old, out-of-tree design file remains (an upper-case DESIGN.md with a section).
A run that found no link or no section reference fails too: it would have checked nothing.
Standard library only; reads each text file once (well under a second on this tree).
"""
import os
import re
import subprocess
import sys
import unicodedata

TEXT_SUFFIXES = {".md", ".h", ".hpp", ".cpp", ".cc", ".c", ".py", ".sh", ".txt", ".cmake", ".yaml",
                 ".yml", ".json", ".sbatch", ".job", ".proto", ".in"}
SKIP_DIRS = {".git", "build", ".cache", ".venv", "out", ".gpu-deps", "node_modules", "__pycache__"}
# Top-level folders whose paths a page may name in backticks.
TREE_ROOTS = ("src/", "cli/", "data_prep/", "tests/", "scripts/", "bench/", "cmake/", "examples/", "docs/")

LINK = re.compile(r"(!?)\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+(\S+)", re.M)
INLINE_CODE = re.compile(r"(`+)(.+?)\1", re.S)
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
SECTION_HEADING = re.compile(r"^##+\s+§(\d+(?:\.\d+)*)\s")
DESIGN_REF = re.compile(r"docs/design\.md((?:\s*(?:,|and|-|–)?\s*§\s*\d+(?:\.\d+)*)+)")
SECTION_NUMBER = re.compile(r"§\s*(\d+(?:\.\d+)*)")
# Built in two pieces so that this file does not match itself.
STALE_DESIGN = re.compile("(?<![a-z/])" + "DESIGN" + r"\.md[\s,]*(?:§|section)")


def tracked_files(repo):
    """Relative paths of the tree's files: git's list where there is one, else a walk."""
    try:
        out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others",
                              "--exclude-standard"], capture_output=True, check=True, timeout=20).stdout
        files = [p for p in out.decode().split("\0") if p]
        if files:
            return sorted(p for p in files if os.path.isfile(os.path.join(repo, p)))
    except (OSError, subprocess.SubprocessError):
        pass
    files = []
    for root, dirs, names in os.walk(repo):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith("build")]
        files += [os.path.relpath(os.path.join(root, n), repo) for n in names]
    return sorted(files)


def github_slug(text):
    """The anchor GitHub gives a heading: rendered text, lower case, punctuation dropped, spaces to -."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)   # a link keeps its text
    text = re.sub(r"<[^>]+>", "", text)                       # inline HTML
    text = text.replace("`", "").lower()
    kept = []
    for ch in text:
        cat = unicodedata.category(ch)
        if ch in " -_" or cat[0] in "LNM":
            kept.append(ch)
    return "".join(kept).replace(" ", "-")


def markdown_lines(text):
    """(line number, line) outside fenced and indented code blocks."""
    fence = None
    previous_blank = True
    for number, line in enumerate(text.split("\n"), 1):
        stripped = line.lstrip()
        if fence:
            if stripped.startswith(fence):
                fence = None
            previous_blank = False
            continue
        if stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
            continue
        if line.startswith("    ") and previous_blank and not stripped.startswith(("-", "*", "|")):
            continue   # an indented code block (stays one until a blank line; good enough here)
        previous_blank = not line.strip()
        yield number, line


def paragraphs(lines):
    """(first line number, text) of each run of non-blank lines: a link or inline code may wrap."""
    start, block = None, []
    for number, line in lines:
        if line.strip():
            if start is None:
                start = number
            block.append(line)
            continue
        if block:
            yield start, "\n".join(block)
        start, block = None, []
    if block:
        yield start, "\n".join(block)


def anchors_of(text):
    seen = {}
    anchors = set()
    for _, line in markdown_lines(text):
        m = HEADING.match(line)
        if not m:
            continue
        slug = github_slug(m.group(2))
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


class Checker:
    def __init__(self, repo):
        self.repo = repo
        self.problems = []
        self.links = 0
        self.paths = 0
        self.section_refs = 0
        self.texts = {}

    def text(self, rel):
        if rel not in self.texts:
            with open(os.path.join(self.repo, rel), encoding="utf-8", errors="replace") as f:
                self.texts[rel] = f.read()
        return self.texts[rel]

    def problem(self, where, message):
        self.problems.append(f"{where}: {message}")

    def check_link(self, page, number, target):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I) or target.startswith("//"):
            return   # http:, https:, mailto:: not ours to check offline
        self.links += 1
        path, _, anchor = target.partition("#")
        if path:
            resolved = os.path.normpath(os.path.join(os.path.dirname(page), path))
            full = os.path.join(self.repo, resolved)
            if resolved.startswith("..") or not os.path.exists(full):
                self.problem(f"{page}:{number}", f"link to {target}: no {resolved}")
                return
        else:
            resolved = page
        if anchor:
            if not resolved.endswith(".md") or os.path.isdir(os.path.join(self.repo, resolved)):
                self.problem(f"{page}:{number}", f"link to {target}: an anchor into a page that is not Markdown")
            elif anchor not in anchors_of(self.text(resolved)):
                self.problem(f"{page}:{number}", f"link to {target}: {resolved} has no heading #{anchor}")

    def check_page(self, page):
        text = self.text(page)
        for number, block in paragraphs(markdown_lines(text)):
            # Inline code is blanked out (same length) before links are looked for: `[x](y)` is no link.
            code_free = INLINE_CODE.sub(lambda m: m.group(1) + "x" * len(m.group(2)) + m.group(1), block)
            for m in LINK.finditer(code_free):
                self.check_link(page, number + block.count("\n", 0, m.start()), block[m.start(3):m.end(3)])
            for m in INLINE_CODE.finditer(block):
                code = " ".join(m.group(2).split())
                self.check_named_path(page, number + block.count("\n", 0, m.start()), code)
        for m in REF_DEF.finditer(text):
            self.check_link(page, text.count("\n", 0, m.start()) + 1, m.group(1))

    def check_named_path(self, page, number, code):
        if not code.startswith(TREE_ROOTS) or re.search(r"[\s*<>{}#@$%]|NNNN|\.\.\.", code):
            return   # not a path, or a pattern (tests/e2e/*.sh, bench/results/<date>.json)
        path = code.rstrip("/").split(":")[0]
        if path.startswith("docs/") and "." not in os.path.basename(path):
            return   # docs/ holds pages only: an extension-less name there is the ctest entry docs/links
        if os.path.basename(page) == "SOURCE.md":
            return   # a data folder's provenance names paths in the repositories the data came from
        self.paths += 1
        if not os.path.exists(os.path.join(self.repo, path)) and not self.ignored(path):
            self.problem(f"{page}:{number}", f"names `{code}`, which is not in the tree")

    def ignored(self, path):
        """A file the tree deliberately lacks (git-ignored: a clip that may not be redistributed)."""
        return subprocess.run(["git", "-C", self.repo, "check-ignore", "-q", path]).returncode == 0

    def design_sections(self):
        sections = set()
        for _, line in markdown_lines(self.text("docs/design.md")):
            m = SECTION_HEADING.match(line)
            if m:
                sections.add(m.group(1))
        return sections

    def check_section_refs(self, rel, sections):
        text = self.text(rel)
        for m in STALE_DESIGN.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            self.problem(f"{rel}:{line}", f"cites the old design file ({m.group(0).strip()}): "
                                          "point it at docs/design.md §N")
        refs = [m.group(1) for m in DESIGN_REF.finditer(text)]
        positions = [m.start() for m in DESIGN_REF.finditer(text)]
        if rel == "docs/design.md":   # the page's own §N, outside its headings
            body = "\n".join(l for _, l in markdown_lines(text) if not SECTION_HEADING.match(l))
            refs.append(body)
            positions.append(0)
        for ref, position in zip(refs, positions):
            for number in SECTION_NUMBER.findall(ref):
                self.section_refs += 1
                if number not in sections:
                    line = text.count("\n", 0, position) + 1
                    self.problem(f"{rel}:{line}" if rel != "docs/design.md" else rel,
                                 f"§{number} is not a section of docs/design.md "
                                 f"(it has {', '.join('§' + s for s in sorted(sections, key=section_key))})")


def section_key(number):
    return [int(part) for part in number.split(".")]


def main():
    repo = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                           os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
    checker = Checker(repo)
    files = tracked_files(repo)
    for required in ("README.md", "docs/design.md"):
        if required not in files:
            print(f"check_docs: ERROR: {required} is missing from {repo}")
            return 1
    sections = checker.design_sections()
    if not sections:
        checker.problem("docs/design.md", "no numbered section (## §N Title)")
    for rel in files:
        if rel.endswith(".md"):
            checker.check_page(rel)
        if os.path.splitext(rel)[1] in TEXT_SUFFIXES or os.path.basename(rel) == "CMakeLists.txt":
            checker.check_section_refs(rel, sections)
    if checker.links == 0 or checker.section_refs == 0:
        checker.problem(repo, f"checked {checker.links} links and {checker.section_refs} section "
                              "references: nothing to check means the check is broken")
    for p in checker.problems:
        print(p)
    print(f"check_docs: {len(files)} files, {checker.links} links, {checker.paths} named paths, "
          f"{checker.section_refs} design section references ({len(sections)} sections): "
          f"{len(checker.problems)} problems")
    return 1 if checker.problems else 0


if __name__ == "__main__":
    sys.exit(main())
