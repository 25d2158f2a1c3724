#!/usr/bin/env python3
"""Extracts the keyword tree keepalived registers, from its source at a tag.

    scripts/keepalived_keywords.py REPO TAG [BASE LATER...] > tests/data/keepalived-keywords/TAG.txt

With BASE (and the tags between it and TAG, oldest first), each keyword BASE does not have is
followed by the first tag that has it: `global_defs/json_version 2.2.8`.

REPO is a git clone of acassen/keepalived. The parent process's registration
(keepalived/core/main.c global_init_keywords) is followed statement by statement:
install_keyword_root starts a top-level keyword, install_keyword(_quoted) adds one at the
current level, install_sublevel/install_sublevel_end enter and leave the last keyword's block,
and calls to other functions that register keywords are followed with their arguments bound.
Every #if branch is taken (a build with every feature), and `if` conditions on the function's
own arguments (`!strcmp(keyword, "SSL_GET")`, `connection_keywords`) are evaluated.

Output: one line per keyword, its block path and name joined by '/', in registration order,
without duplicates (`vrrp_instance/authentication/auth_type`).
"""

import re
import subprocess
import sys

ROOT_FUNCTION = "global_init_keywords"


def source_files(repo, tag):
    names = subprocess.run(
        ["git", "-C", repo, "ls-tree", "-r", "--name-only", tag],
        check=True, capture_output=True, text=True).stdout.split()
    for name in names:
        if name.endswith(".c") and (name.startswith("keepalived/") or name.startswith("lib/")):
            text = subprocess.run(["git", "-C", repo, "show", f"{tag}:{name}"],
                                  check=True, capture_output=True, text=True,
                                  errors="replace").stdout
            yield name, text


def strip(text):
    """Comments and preprocessor lines removed (every #if branch is kept)."""
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    return "\n".join("" if l.lstrip().startswith("#") else l for l in text.split("\n"))


FUNCTION = re.compile(r"^(\w+)\s*\(([^)]*)\)\s*\n\{\n(.*?)\n\}", re.M | re.S)


def functions(files):
    found = {}
    for _, text in files:
        for m in FUNCTION.finditer(strip(text)):
            params = [p.split()[-1].lstrip("*") for p in m.group(2).split(",")
                      if p.strip() and p.strip() != "void"]
            found.setdefault(m.group(1), (params, m.group(3)))
    return found


def balanced(text, i, open_c, close_c):
    """Index just past the bracket matching the one at text[i]."""
    depth = 0
    while i < len(text):
        if text[i] == '"':
            i = text.index('"', i + 1) + 1
            continue
        if text[i] == open_c:
            depth += 1
        elif text[i] == close_c:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    raise ValueError("unbalanced")


def statements(body):
    """Top-level statements: ('if', cond, then, else) or ('expr', text)."""
    i, out = 0, []
    while i < len(body):
        if body[i].isspace() or body[i] == ";":
            i += 1
            continue
        stmts, i = one(body, i)
        out.extend(stmts)
    return out


def one(body, i):
    """The statement (or block) starting at i: its statements and where it ends."""
    while body[i].isspace():
        i += 1
    if body[i] == "{":
        k = balanced(body, i, "{", "}")
        return statements(body[i + 1:k - 1]), k
    if re.match(r"if\b", body[i:]):
        j = body.index("(", i)
        k = balanced(body, j, "(", ")")
        then, k = one(body, k)
        other = []
        m = re.match(r"\s*else\b", body[k:])
        if m:
            other, k = one(body, k + m.end())
        return [("if", body[j + 1:balanced(body, j, "(", ")") - 1], then, other)], k
    j = i
    while body[j] != ";":
        if body[j] == "(":
            j = balanced(body, j, "(", ")")
            continue
        if body[j] == '"':
            j = body.index('"', j + 1) + 1
            continue
        j += 1
    return [("expr", body[i:j])], j + 1


def split_args(text):
    args, depth, cur, i = [], 0, "", 0
    while i < len(text):
        c = text[i]
        if c == '"':
            k = text.index('"', i + 1)
            cur += text[i:k + 1]
            i = k + 1
            continue
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if c == "," and depth == 0:
            args.append(cur.strip())
            cur = ""
        else:
            cur += c
        i += 1
    if cur.strip():
        args.append(cur.strip())
    return args


def value(arg, env):
    arg = arg.strip()
    if arg.startswith('"'):
        return arg[1:-1]
    if arg in ("true", "false"):
        return arg == "true"
    return env.get(arg, arg)


def truth(cond, env):
    cond = cond.strip()
    m = re.fullmatch(r'!\s*strcmp\s*\(\s*(\w+)\s*,\s*"([^"]*)"\s*\)', cond)
    if m and m.group(1) in env:
        return env[m.group(1)] == m.group(2)
    m = re.fullmatch(r"(!?)\s*(\w+)", cond)
    if m and isinstance(env.get(m.group(2)), bool):
        return env[m.group(2)] != (m.group(1) == "!")
    return None  # unknown: take both branches


class Tree:
    def __init__(self, funcs):
        self.funcs = funcs
        self.path = []
        self.last = None
        self.stack = []
        self.out = []
        self.registers = {}

    def emit(self, name):
        entry = "/".join(self.path + [name])
        if entry not in self.out:
            self.out.append(entry)
        self.last = name

    def does_register(self, fname, seen=()):
        if fname in self.registers:
            return self.registers[fname]
        if fname not in self.funcs or fname in seen:
            return False
        body = self.funcs[fname][1]
        calls = set(re.findall(r"\b(\w+)\s*\(", body))
        result = any(c.startswith("install_") for c in calls) or any(
            self.does_register(c, seen + (fname,)) for c in calls if c in self.funcs)
        self.registers[fname] = result
        return result

    def run(self, fname, args):
        params, body = self.funcs[fname]
        env = dict(zip(params, args))
        self.block(statements(body), env)

    def block(self, stmts, env):
        for s in stmts:
            if s[0] == "if":
                t = truth(s[1], env)
                if t is None:
                    self.block(s[2], env)
                    self.block(s[3], env)
                elif t:
                    self.block(s[2], env)
                else:
                    self.block(s[3], env)
            else:
                self.expr(s[1], env)

    def expr(self, text, env):
        for m in re.finditer(r"\b(\w+)\s*\(", text):
            fname = m.group(1)
            end = balanced(text, m.end() - 1, "(", ")")
            args = [value(a, env) for a in split_args(text[m.end():end - 1])]
            if fname == "install_keyword_root":
                self.path = []
                self.stack = []
                self.emit(args[0])
                self.path = [args[0]]
            elif fname in ("install_keyword", "install_keyword_quoted",
                           "install_keyword_conditional"):
                self.emit(args[0])
            elif fname == "install_sublevel":
                self.stack.append(self.path)
                self.path = self.path + [self.last]
            elif fname == "install_sublevel_end":
                self.path = self.stack.pop()
            elif fname.startswith("install_") and fname not in self.funcs:
                pass  # end handlers
            elif self.does_register(fname) and fname in self.funcs:
                self.run(fname, args)
            return  # one call per statement carries the registration


def keywords(repo, tag):
    funcs = functions(list(source_files(repo, tag)))
    # Definitions of the install functions themselves are not followed.
    for f in ("install_keyword", "install_keyword_quoted", "install_keyword_root",
              "install_sublevel", "install_sublevel_end", "install_keyword_conditional"):
        funcs.pop(f, None)
    tree = Tree(funcs)
    tree.run(ROOT_FUNCTION, [])
    return tree.out


def main():
    repo, tag, history = sys.argv[1], sys.argv[2], sys.argv[3:]
    entries = keywords(repo, tag)
    base = set(keywords(repo, history[0])) if history else None
    later = [(t, set(keywords(repo, t))) for t in history[1:]]
    print(f"# keepalived {tag}: keywords registered (scripts/keepalived_keywords.py"
          + (f", new since {history[0]} marked with the first tag that has them)" if history else ")"))
    for entry in entries:
        if base is None or entry in base:
            print(entry)
            continue
        first = next((t for t, have in later if entry in have), tag)
        print(f"{entry} {first.lstrip('v')}")


if __name__ == "__main__":
    main()
