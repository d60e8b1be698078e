#!/usr/bin/env python3
"""The longest functions in C++ sources, in lines from the opening line to the closing brace.

Usage: scripts/function-lengths.py [--top N] [PATH...]   (default: src cli data_prep)

A heuristic, not a parser: braces are counted outside comments, strings and character literals; a
brace block is a function body when every block around it is a namespace, class, struct, union or
enum (or extern "C") and the text before it is not an initializer. Lambdas count toward the
function that holds them.
"""
import argparse
import pathlib
import re
import sys

SCOPE = re.compile(r'\b(namespace|class|struct|union|enum)\b|extern\s+"C"')


def strip(text):
    """`text` with comments, strings and character literals blanked (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            i = n if j < 0 else j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif text.startswith('R"', i) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == '_')):
            m = re.match(r'R"([^(]*)\(', text[i:])
            end = text.find(')' + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append(re.sub(r'[^\n]', ' ', text[i:j]))
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == '\\' else 1
            out.append(' ' * (j + 1 - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return ''.join(out)


def functions(path):
    text = strip(path.read_text(errors='replace'))
    stack = []  # (kind, start_line, name)
    last_boundary = 0
    line = 1
    for i, c in enumerate(text):
        if c == '\n':
            line += 1
        elif c == '{':
            before = text[last_boundary:i]
            in_scope_level = all(kind == 'scope' for kind, _, _ in stack)
            if SCOPE.search(before):
                kind = 'scope'
            elif in_scope_level and ')' in before and not re.search(r'=\s*$', before.strip() + ' ') \
                    and not before.strip().endswith('='):
                kind = 'function'
            else:
                kind = 'block'
            name = ' '.join(before.split())[-90:]
            stack.append((kind, line, name))
            last_boundary = i + 1
        elif c == '}':
            if stack:
                kind, start, name = stack.pop()
                if kind == 'function':
                    yield line - start + 1, start, name
            last_boundary = i + 1
        elif c == ';':
            last_boundary = i + 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--top', type=int, default=10)
    parser.add_argument('paths', nargs='*', default=['src', 'cli', 'data_prep'])
    args = parser.parse_args()
    found = []
    for root in args.paths:
        root = pathlib.Path(root)
        files = [root] if root.is_file() else sorted(p for p in root.rglob('*') if p.suffix in ('.cpp', '.h', '.hpp'))
        for path in files:
            found += [(length, str(path), start, name) for length, start, name in functions(path)]
    found.sort(reverse=True)
    for length, path, start, name in found[:args.top]:
        print(f'{length:5d}  {path}:{start}  {name}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
