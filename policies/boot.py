"""Boot data read the way the VM reads it, and what it writes into sshd's configuration.

Shared by the admin-access rules (root and password login) and the network-exposure stack rule
(sshd moved to another port). Pure functions over text; no provider imports.

Decoding: base64 is decoded (text that is not valid base64 is read as plain text), gzip is
decompressed, MIME multi-part cloud-init is split into its parts, serialized secrets are
unwrapped.

Judging: a document is what it *writes*, not every string it mentions. A shell script is split
into simple commands; commands that only read (``grep``, ``test``, ``[``) are skipped, ``sed`` and
``perl -pi`` are parsed (address, back-references, ``a``/``i``/``c`` text), ``echo``/``printf``,
here-documents and any other command are read as the text they write. cloud-config (YAML, or JSON
which is YAML) is read by key: ``write_files`` (decoded per ``encoding``), ``runcmd``/``bootcmd``
(string and list forms), ``users``, ``chpasswd``, ``ssh_pwauth``, ``disable_root``; any other string
in it is read as a script (fail closed). A directive whose value is not a literal
(``PermitRootLogin ${MODE}``, ``$(...)``) is resolved from assignments in the same script or
reported as unresolved.

Downloads (`document_downloads`): what a document fetches and *runs*, read by following the
data: a fetch (``curl``, ``wget``, ``aws s3 cp``, ``gsutil``, ``git clone``, ``python -c urllib``
...) taints stdout, the files it writes (``-o``, ``-O``, ``>``, ``tee``, ``cp``/``mv``/``install``,
unpacked archives), variables assigned from it and substitutions; a tainted stream, file,
variable or substitution that reaches an interpreter (pipe, ``<(...)``, ``-c "$(...)"``,
here-string), ``source``/``.``/``eval``, a command position, a package installer, a build, a
function that runs its argument, or a path the system runs by itself (systemd, cron, profile.d)
is a `Download`. So is cloud-init ``#include``, ``write_files`` ``source``, configuration
management (chef, puppet, salt, ansible pull), PowerShell ``iex (iwr ...)`` and package
signature checks turned off. A download that is only kept as data (an apt signing key moved
into a keyring) is not one.
"""

from __future__ import annotations

import base64
import binascii
import email
import functools
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from pulumi_policy.secret import Secret

from .framework import is_map

SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"

#: Decompressed boot data larger than this is not read further (decompression bombs).
MAX_BOOT_BYTES = 4 * 1024 * 1024

#: sshd directives that open root or password login, with the values sshd accepts for them. A
#: literal outside these sets makes sshd refuse its configuration, so it opens nothing.
LOGIN_DIRECTIVES: dict[str, frozenset[str]] = {
    "permitrootlogin": frozenset({"yes", "no", "prohibit-password", "without-password", "forced-commands-only"}),
    "passwordauthentication": frozenset({"yes", "no"}),
    "kbdinteractiveauthentication": frozenset({"yes", "no"}),
    "challengeresponseauthentication": frozenset({"yes", "no"}),
    "permitemptypasswords": frozenset({"yes", "no"}),
}
_DIRECTIVE_RE = re.compile(
    r"(?<![\w-])(PermitRootLogin|PasswordAuthentication|KbdInteractiveAuthentication|"
    r"ChallengeResponseAuthentication|PermitEmptyPasswords|Port)(?![\w-])(?:[ \t]*=[ \t]*|[ \t]+)"
    r"(\"[^\"\n]*\"|'[^'\n]*'|[^\s;#'\"(),\\/|]+)",
    re.IGNORECASE,
)
#: Cheap pre-filter: a script that mentions none of these writes no sshd setting we can read
#: (directive names, sshd itself, and the decoders whose output would hide one).
_MENTIONS_SSHD_RE = re.compile(
    r"permitrootlogin|passwordauthentication|kbdinteractiveauthentication|challengeresponseauthentication|"
    r"permitemptypasswords|port|sshd|base64|xxd|openssl|gunzip|zcat|uudecode",
    re.IGNORECASE,
)
_KEYWORD_RE = re.compile(
    r"(PermitRootLogin|PasswordAuthentication|KbdInteractiveAuthentication|ChallengeResponseAuthentication|"
    r"PermitEmptyPasswords)",
    re.IGNORECASE,
)


# ---------------------------------------------------------------------------------------------
# Decoding


def plain(value: Any) -> Any:
    """A value with secret wrappers removed (serialized secret maps and `Secret` objects)."""
    if isinstance(value, Secret):
        return plain(value.value)
    if is_map(value) and SECRET_SIG_KEY in value and value[SECRET_SIG_KEY] == SECRET_SIG:
        return plain(value.get("value"))
    return value


def _gunzip(data: bytes) -> bytes | None:
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            return fh.read(MAX_BOOT_BYTES)
    except (OSError, EOFError, zlib.error):
        return None


def bytes_to_text(data: bytes) -> str | None:
    """UTF-8 text of (possibly gzipped) bytes, None when it is neither."""
    if data[:2] == b"\x1f\x8b":
        unzipped = _gunzip(data)
        if unzipped is None:
            return None
        data = unzipped
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _b64_bytes(raw: str) -> bytes | None:
    compact = re.sub(r"\s+", "", raw)
    if not compact:
        return None
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64_text(raw: str) -> str | None:
    data = _b64_bytes(raw)
    return None if data is None else bytes_to_text(data)


def _mime_parts(text: str) -> list[str]:
    """The text parts of a MIME multi-part cloud-init document (decoded), else []."""
    head = text.lstrip()[:200].lower()
    if not (head.startswith("content-type:") or head.startswith("mime-version:")):
        return []
    parts: list[str] = []
    for part in email.message_from_string(text).walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            decoded = bytes_to_text(payload)
            if decoded is not None:
                ctype = part.get_content_type()
                if ctype in ("text/x-include-url", "text/x-include-once-url") and not decoded.lstrip().startswith(
                    "#include"
                ):
                    # cloud-init reads the part as if it began with its header: a list of URLs.
                    decoded = "#include\n" + decoded
                parts.append(decoded)
    return parts


def boot_texts(raw: Any, is_base64: bool) -> list[str]:
    """Every readable text form of one boot-data value (decoded, decompressed, MIME parts).

    Base64 properties that do not decode are read as plain text; plain properties are also read
    decoded when they happen to be valid base64 text (fail closed: both are scanned).
    """
    raw = plain(raw)
    if raw is None:
        return []
    if not isinstance(raw, str):
        raise TypeError(f"boot data is {type(raw).__name__}, expected a string")
    texts: list[str] = []
    decoded = b64_text(raw)
    if decoded is not None:
        texts.append(decoded)
    if decoded is None or not is_base64:
        texts.append(raw)
    out: list[str] = []
    for text in texts:
        # A MIME container is read as its decoded parts (not twice: container and parts).
        out.extend(_mime_parts(text) or [text])
    return out


# ---------------------------------------------------------------------------------------------
# What a document writes


@dataclass(frozen=True)
class Setting:
    """One sshd directive a document writes."""

    where: str
    """Where in the document, e.g. ``line 3`` or ``runcmd[1]``."""
    key: str
    """The directive as written (``PermitRootLogin``)."""
    value: str
    """The value as written (``yes``, ``${MODE}``)."""
    values: tuple[str, ...]
    """The literal values it can take (lowercase); empty when it cannot be resolved."""
    to_sshd: bool = True
    """Whether it is written somewhere sshd reads (an ssh path, ``sshd -o``); decides for ``Port``."""


@dataclass
class Writes:
    """What one boot document writes: sshd settings and cloud-init login findings."""

    settings: list[Setting] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


_VAR_RE = re.compile(r"^\$(?:\{(\w+)(?:[:]?[-=][^}]*)?\}|(\w+))$")


def _resolve(value: str, env: Mapping[str, Sequence[str | None]]) -> tuple[str, ...]:
    """Literal values of a directive value: itself, or what a variable is assigned in the script.

    Returns () when the value depends on something the script does not fix (an unassigned
    variable, a command substitution, a variable assigned from one).
    """
    value = _unquote(value.strip())
    if "$" not in value and "`" not in value:
        return (value.lower(),)
    m = _VAR_RE.match(value)
    if not m:
        return ()
    assigned = env.get(m.group(1) or m.group(2) or "")
    if not assigned or any(v is None for v in assigned):
        return ()
    out: list[str] = []
    for v in assigned:
        out.extend(_resolve(v or "", {}))
    return tuple(out) if len(out) == len(assigned) else ()


def text_settings(
    text: str, where: str, env: Mapping[str, Sequence[str | None]], first_line: int | None = None, to_sshd: bool = True
) -> Iterator[Setting]:
    """sshd directives in written text (config lines, echoed text); comments are skipped.

    With `first_line`, each setting is labelled with its own line number (config files, here-documents).
    """
    for lineno, line in enumerate(text.splitlines(), 0 if first_line is None else first_line):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        label = where if first_line is None else f"{where} line {lineno}".strip()
        for m in _DIRECTIVE_RE.finditer(stripped):
            yield Setting(label, m.group(1), _unquote(m.group(2)), _resolve(m.group(2), env), to_sshd)


# --- a small shell reader ------------------------------------------------------------------------


@dataclass
class Command:
    words: list[str]
    line: int
    heredocs: list[tuple[str, bool]] = field(default_factory=list)
    """``(body, expands)``: here-document bodies fed to the command."""
    after_pipe: bool = False
    """Whether the command reads the previous command's output (``a | b``)."""


_REDIRECTS = {">", ">>", "<", "<<", "<<-", ">|", "&>", "&>>", ">&", "<&", "<>", "<<<"}


def _read_balanced(s: str, i: int, open_: str, close: str) -> int:
    """Index after the `close` matching the `open_` at s[i] (quotes inside are skipped)."""
    depth, j = 0, i
    while j < len(s):
        c = s[j]
        if c == "\\":
            j += 2
            continue
        if c == "'" and open_ != "'":
            k = s.find("'", j + 1)
            j = len(s) if k < 0 else k + 1
            continue
        if c == open_:
            depth += 1
        elif c == close:
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return len(s)


def shell_commands(script: str, process_substitution: bool = False) -> list[Command]:
    """Simple commands of a shell script, quotes removed; here-document bodies attached.

    With `process_substitution`, ``<(...)`` and ``>(...)`` are kept as one word each (the
    download reader looks inside them); without, they read as a redirect and a subshell.

    An unbalanced quote is read as a literal character (the shell would refuse the script; reading
    on keeps the rest of it judged).
    """
    commands: list[Command] = []
    words: list[str] = []
    word: list[str] = []
    state = {"in_word": False, "quoted": False, "delim": None, "line": 1, "start": 1, "pipe": False}
    heredocs: list[tuple[str, bool, bool, int]] = []  # (delimiter, strip tabs, expands, command index)

    def end_word() -> None:
        if state["in_word"]:
            w = "".join(word)
            if state["delim"] is not None:
                heredocs.append((w, state["delim"], not state["quoted"], len(commands)))
                state["delim"] = None
            else:
                words.append(w)
        word.clear()
        state["in_word"] = state["quoted"] = False

    def end_command() -> None:
        end_word()
        if words:
            commands.append(Command(list(words), state["start"], after_pipe=bool(state["pipe"])))
        state["pipe"] = False
        words.clear()
        state["start"] = state["line"]

    i, n = 0, len(script)
    while i < n:
        c = script[i]
        if c == "\\" and i + 1 < n:
            if script[i + 1] == "\n":
                state["line"] += 1
            else:
                word.append(script[i + 1])
                state["in_word"] = True
            i += 2
            continue
        if c == "\n":
            end_command()
            state["line"] += 1
            i += 1
            for delim, strip_tabs, expands, owner in heredocs:
                body: list[str] = []
                while i < n:
                    j = script.find("\n", i)
                    j = n if j < 0 else j
                    text_line = script[i:j].lstrip("\t") if strip_tabs else script[i:j]
                    i = j + 1
                    state["line"] += 1
                    if text_line == delim:
                        break
                    body.append(text_line)
                if owner < len(commands):
                    commands[owner].heredocs.append(("\n".join(body), expands))
            heredocs.clear()
            state["start"] = state["line"]
            continue
        if c in " \t\r":
            end_word()
            i += 1
            continue
        if c == "#" and not state["in_word"]:
            j = script.find("\n", i)
            i = n if j < 0 else j
            continue
        if c in "'\"`" and script.find(c, i + 1) < 0:
            word.append(c)  # unbalanced: a literal character
            state["in_word"] = True
            i += 1
            continue
        if c == "'":
            j = script.find("'", i + 1)
            word.append(script[i + 1 : j])
            state["line"] += script.count("\n", i, j)
            state["in_word"] = state["quoted"] = True
            i = j + 1
            continue
        if c == '"':
            j = i + 1
            while j < n and script[j] != '"':
                if script[j] == "\\" and j + 1 < n and script[j + 1] in '"\\$`\n':
                    if script[j + 1] != "\n":
                        word.append(script[j + 1])
                    j += 2
                    continue
                if script.startswith("$(", j):
                    k = _read_balanced(script, j + 1, "(", ")")
                    word.append(script[j:k])
                    j = k
                    continue
                word.append(script[j])
                j += 1
            state["line"] += script.count("\n", i, j)
            state["in_word"] = state["quoted"] = True
            i = j + 1
            continue
        if script.startswith("$(", i) or (
            process_substitution and c in "<>" and script.startswith("(", i + 1) and not state["in_word"]
        ):
            j = _read_balanced(script, i + 1, "(", ")")
            word.append(script[i:j])
            state["in_word"] = True
            i = j
            continue
        if script.startswith("${", i) or c == "`":
            j = script.find("}" if c == "$" else "`", i + 1)
            j = n - 1 if j < 0 else j
            word.append(script[i : j + 1])
            state["in_word"] = True
            i = j + 1
            continue
        op = next((o for o in _OPERATORS if script.startswith(o, i)), None) if c in _OPERATOR_CHARS else None
        if op is not None:
            end_word()
            if op in ("<<", "<<-"):
                state["delim"] = op == "<<-"
            elif op in _REDIRECTS:
                words.append(op)
            else:
                end_command()
                state["pipe"] = op in ("|", "|&")
            i += len(op)
            continue
        m = _PLAIN_RUN_RE.match(script, i)
        if m:
            word.append(m.group(0))  # a run of ordinary characters at once
            i = m.end()
        else:
            word.append(c)
            i += 1
        state["in_word"] = True
    end_command()
    return commands


_OPERATOR_CHARS = frozenset(";&|<>()")
_PLAIN_RUN_RE = re.compile(r"[^\s\\'\"`$;&|<>()]+")
_OPERATORS = (
    "<<-", "<<<", "&>>", "&&", "||", "|&", ";;", ">>", "<<", ">|", ">&", "<&", "<>", "&>", ";", "&", "|", ">", "<", "(", ")",
)  # fmt: skip


_KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time", "esac"}
_PREFIXES = {"sudo", "env", "nohup", "command", "exec", "builtin", "nice", "stdbuf", "timeout", "xargs"}
_DECLARE = {"export", "local", "declare", "readonly", "typeset"}
#: Commands that only read or test: what they mention is not written anywhere.
_READERS = {
    "grep", "egrep", "fgrep", "zgrep", "rg", "test", "[", "[[", "]]", "case", "diff", "cmp", "logger",
    "journalctl", "systemctl", "service", "cat", "head", "tail", "less", "wc", "sort", "uniq",
}  # fmt: skip
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "ash"}
_AWK_PRINT_RE = re.compile(r"\bprintf?\s*\(?\s*\"((?:\\.|[^\"\\])*)\"")
#: Commands whose output is not in the script (decoders, downloaders).
_OPAQUE_WRITERS = {"base64", "openssl", "xxd", "gunzip", "zcat", "curl", "wget", "gpg", "uudecode"}
#: The pseudo-directive of a write to sshd's configuration whose content cannot be read.
OPAQUE = "(content)"


def _runs_decoded(source: Command, sink: Command) -> bool:
    """``... | base64 -d | sh``: a script that exists only at run time, so it cannot be judged."""
    src = _command_name(source.words)
    dst = _command_name(sink.words)
    if not src or not dst or dst[0].rsplit("/", 1)[-1] not in _SHELLS or "-c" in dst:
        return False
    name = src[0].rsplit("/", 1)[-1]
    decodes = any(a in ("-d", "--decode", "-D", "-r") or (a.startswith("-") and "d" in a[1:]) for a in src[1:])
    return name in ("gunzip", "zcat", "uudecode") or (name in ("base64", "openssl", "xxd", "gzip") and decodes)


def _is_sshd_path(targets: Sequence[str], args: Sequence[str]) -> bool:
    return any("sshd_config" in w or "/etc/ssh/" in w for w in (*targets, *args))


_ASSIGN_RE = re.compile(r"^([A-Za-z_]\w*)=(.*)$", re.S)


def _strip_redirects(words: list[str]) -> tuple[list[str], list[str]]:
    """``(words, redirect targets)``."""
    out, targets = [], []
    skip = False
    for w in words:
        if skip:
            targets.append(w)
            skip = False
        elif w in _REDIRECTS:
            skip = True
        else:
            out.append(w)
    return out, targets


def _command_name(words: list[str]) -> list[str]:
    """The words from the command name on (keywords, assignments and sudo/env prefixes dropped)."""
    i = 0
    while i < len(words):
        w = words[i]
        base = w.rsplit("/", 1)[-1]
        if w in _KEYWORDS or (_ASSIGN_RE.match(w) and not _DIRECTIVE_RE.match(w)):
            i += 1
        elif base in _PREFIXES:
            i += 1
            while i < len(words) and (words[i].startswith("-") or _ASSIGN_RE.match(words[i])):
                i += 1
        else:
            break
    return words[i:]


def _assignments(commands: Iterable[Command], env: dict[str, list[str | None]]) -> None:
    for cmd in commands:
        words = cmd.words
        if words and words[0] in _DECLARE:
            words = [w for w in words[1:] if not w.startswith("-")]
        for w in words:
            m = _ASSIGN_RE.match(w)
            if not m:
                break
            value = m.group(2)
            literal = "$(" not in value and "`" not in value and not re.search(r"\$\w|\$\{", value)
            env.setdefault(m.group(1), []).append(value if literal else None)


# --- sed -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SedCommand:
    addresses: tuple[str, ...]
    name: str
    pattern: str = ""
    replacement: str = ""
    text: str = ""


def _read_delimited(s: str, i: int, delim: str) -> tuple[str, int]:
    """Text up to the next unescaped `delim` (escapes of the delimiter removed) and the index after it."""
    out: list[str] = []
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            out.append(s[i + 1] if s[i + 1] == delim else s[i : i + 2])
            i += 2
            continue
        if c == delim:
            return "".join(out), i + 1
        out.append(c)
        i += 1
    return "".join(out), i


def sed_commands(script: str) -> Iterator[SedCommand]:
    """The commands of a sed script (GNU syntax), with their addresses."""
    i, n = 0, len(script)
    enclosing: list[list[str]] = []  # addresses of the `{ ... }` blocks we are in
    while i < n:
        while i < n and script[i] in " \t\n;}":
            if script[i] == "}" and enclosing:
                enclosing.pop()
            i += 1
        if i >= n:
            return
        addresses: list[str] = [a for block in enclosing for a in block]
        while i < n:
            c = script[i]
            if c == "/":
                addr, i = _read_delimited(script, i + 1, "/")
                addresses.append(addr)
            elif c == "\\" and i + 1 < n:
                addr, i = _read_delimited(script, i + 2, script[i + 1])
                addresses.append(addr)
            elif c.isdigit() or c in "$+~":
                i += 1
                while i < n and script[i].isdigit():
                    i += 1
            elif (c in "IM" and addresses) or c in ",! \t":
                i += 1
            else:
                break
        if i >= n:
            return
        name = script[i]
        i += 1
        if name == "{":
            enclosing.append(addresses)  # the block's commands apply to lines its address selects
            continue
        if name == "s" and i < n:
            delim = script[i]
            pattern, i = _read_delimited(script, i + 1, delim)
            replacement, i = _read_delimited(script, i, delim)
            while i < n and script[i] not in ";\n}":
                i += 1
            yield SedCommand(tuple(addresses), "s", pattern, replacement)
        elif name == "y" and i < n:
            delim = script[i]
            _, i = _read_delimited(script, i + 1, delim)
            _, i = _read_delimited(script, i, delim)
        elif name in "aic":
            # GNU one-liner (`a text`) and classic (`a\` newline text) forms; `\` at a line end continues.
            while i < n and script[i] in " \t":
                i += 1
            if i < n and script[i] == "\\":
                i += 1
                if i < n and script[i] == "\n":
                    i += 1
            lines: list[str] = []
            cur: list[str] = []
            while i < n:
                c = script[i]
                if c == "\\" and i + 1 < n:
                    if script[i + 1] == "\n":
                        lines.append("".join(cur))
                        cur = []
                    else:
                        cur.append(script[i + 1])
                    i += 2
                    continue
                if c == "\n":
                    break
                cur.append(c)
                i += 1
            lines.append("".join(cur))
            yield SedCommand(tuple(addresses), name, text="\n".join(lines))
        elif name in "rwbtTRW:e":
            j = script.find("\n", i)
            i = n if j < 0 else j
        # other one-letter commands (d, p, q, n, N, h, G, x, =, l ...) write nothing new


def _groups(pattern: str, extended: bool) -> list[str]:
    """The capture groups of a regex, in opening order."""
    groups: list[tuple[int, int]] = []
    stack: list[int] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            if not extended and nxt == "(":
                stack.append(len(groups))
                groups.append((i + 2, -1))
            elif not extended and nxt == ")" and stack:
                k = stack.pop()
                groups[k] = (groups[k][0], i)
            i += 2
            continue
        if extended and c == "(":
            stack.append(len(groups))
            groups.append((i + 1, -1))
        elif extended and c == ")" and stack:
            k = stack.pop()
            groups[k] = (groups[k][0], i)
        i += 1
    return [pattern[a:b] if b >= 0 else pattern[a:] for a, b in groups]


_CLASS_SPACE_RE = re.compile(r"\[\[:(?:space|blank):\]\][*+]?|\\s[*+]?|\[ \\t\][*+]?|\[ \t\][*+]?")


def regex_literal(pattern: str) -> str:
    """Roughly the text a regex matches, for finding directive names and values in it."""
    s = _CLASS_SPACE_RE.sub(" ", pattern)
    s = re.sub(r"\[[^\]]*\][*+?]?", "", s)
    s = re.sub(r"\\?\{[0-9,]*\\?\}", "", s)
    s = re.sub(r"\.[*+]|\.\\\+", "", s)
    s = re.sub(r"\\([().?+|{}])", lambda m: "" if m.group(1) in "()?+|{}" else m.group(1), s)
    s = re.sub(r"[()?*+^$|]", "", s)
    s = re.sub(r"\\(.)", r"\1", s)
    return s


def _replacement(repl: str, pattern: str, extended: bool) -> str:
    """A sed/perl replacement with back-references (``\\1``, ``$1``, ``&``) filled in."""
    groups = _groups(pattern, extended)
    out: list[str] = []
    i = 0
    while i < len(repl):
        c = repl[i]
        if c == "\\" and i + 1 < len(repl):
            nxt = repl[i + 1]
            if nxt.isdigit():
                k = int(nxt)
                out.append(regex_literal(pattern if k == 0 else groups[k - 1] if k <= len(groups) else ""))
            else:
                out.append({"n": "\n", "t": "\t"}.get(nxt, nxt))
            i += 2
            continue
        m = re.match(r"\$\{?(\d)\}?", repl[i:])
        if m:
            k = int(m.group(1))
            out.append(regex_literal(groups[k - 1] if 0 < k <= len(groups) else ""))
            i += len(m.group(0))
            continue
        out.append(regex_literal(pattern) if c == "&" else c)
        i += 1
    return "".join(out)


def _substitution_settings(
    cmd: SedCommand, extended: bool, where: str, env: Mapping[str, Sequence[str | None]]
) -> Iterator[Setting]:
    written = _replacement(cmd.replacement, cmd.pattern, extended)
    found = list(text_settings(written, where, env))
    if found:
        yield from found
        return
    # The replacement names no directive: the line it edits is the one the pattern or the
    # address selects (`/^PermitRootLogin/s/no/yes/`), and the value is what it puts there.
    context = " ".join([regex_literal(cmd.pattern), *(regex_literal(a) for a in cmd.addresses)])
    m = _KEYWORD_RE.search(context)
    value = written.strip().split()[0] if written.strip() else ""
    if m and value and not _KEYWORD_RE.search(written):
        yield Setting(where, m.group(1), value, _resolve(value, env))


def _sed_settings(args: list[str], where: str, env: Mapping[str, Sequence[str | None]]) -> Iterator[Setting]:
    scripts: list[str] = []
    extended = False
    operands: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("--"):
            if a.startswith("--expression="):
                scripts.append(a.split("=", 1)[1])
            elif a == "--expression" and i + 1 < len(args):
                scripts.append(args[i + 1])
                i += 1
            elif a == "--regexp-extended":
                extended = True
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                flag = a[j]
                if flag == "i":
                    break  # the rest is the backup suffix (-i.bak, -i'')
                if flag in "Er":
                    extended = True
                elif flag in "ef":
                    rest = a[j + 1 :]
                    if not rest and i + 1 < len(args):
                        rest = args[i + 1]
                        i += 1
                    if flag == "e":
                        scripts.append(rest)
                    break
                j += 1
        else:
            operands.append(a)
        i += 1
    if not scripts and operands:
        scripts.append(operands[0])
    for script in scripts:
        for cmd in sed_commands(script):
            if cmd.name == "s":
                yield from _substitution_settings(cmd, extended, where, env)
            elif cmd.name in "aic":
                yield from text_settings(cmd.text, where, env)


def _perl_settings(args: list[str], where: str, env: Mapping[str, Sequence[str | None]]) -> Iterator[Setting]:
    for i, a in enumerate(args):
        if a.startswith("-") and not a.startswith("--") and a.endswith("e") and i + 1 < len(args):
            for cmd in sed_commands(args[i + 1]):
                if cmd.name == "s":
                    yield from _substitution_settings(cmd, True, where, env)


def _printed(args: list[str], printf: bool) -> str:
    """What echo/printf print: printf fills ``%s``-style conversions with its arguments, reusing
    the format while arguments remain (as the shell does)."""
    if not printf:
        while args and re.fullmatch(r"-[neE]+", args[0]):
            args = args[1:]
        text = " ".join(args)
    elif args and _PRINTF_CONV_RE.search(args[0]):
        fmt, rest = args[0], list(args[1:])
        chunks: list[str] = []
        while True:
            chunks.append(_PRINTF_CONV_RE.sub(lambda _: rest.pop(0) if rest else "", fmt))
            if not rest:
                break
        text = "".join(chunks)
    else:
        text = " ".join(args)
    return text.replace("\\n", "\n").replace("\\t", "\t")


_PRINTF_CONV_RE = re.compile(r"%[-+ #0]*\d*(?:\.\d+)?[sbdqc]")


def _expand_names(word: str, env: Mapping[str, Sequence[str | None]]) -> str:
    """`word` with variables that hold a directive name replaced (``K=PermitRootLogin; echo "$K yes"``).
    Values stay as written so that `_resolve` can say where they came from."""
    if "$" not in word:
        return word

    def name_of(m: re.Match[str]) -> str:
        values = env.get(m.group(1) or m.group(2) or "") or []
        if len(values) == 1 and values[0] is not None and _KEYWORD_RE.fullmatch(values[0].strip()):
            return values[0].strip()
        return m.group(0)

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", name_of, word)


def _command_settings(
    words: list[str], where: str, env: Mapping[str, Sequence[str | None]], depth: int = 0
) -> Iterator[Setting]:
    words = [_expand_names(w, env) for w in words]
    here_strings = [words[k + 1] for k, w in enumerate(words[:-1]) if w == "<<<"]
    words, targets = _strip_redirects(words)
    for text in here_strings:  # like a here-document: judged whatever the command is
        yield from text_settings(text.replace("\\n", "\n"), where, env)
    words = _command_name(words)
    if not words:
        return
    name = words[0].rsplit("/", 1)[-1]
    args = words[1:]
    if name in _READERS:
        return
    # Whether what it writes lands where sshd reads it (for `Port`; login values are judged anywhere).
    to_sshd = any("ssh" in w for w in (*targets, *args[-2:]))
    if name == "sed":
        found: Iterable[Setting] = _sed_settings(args, where, env)
    elif name == "perl":
        found = _perl_settings(args, where, env)
    elif name in _SHELLS and "-c" in args and depth < 3:
        k = args.index("-c")
        found = script_settings(args[k + 1], where, env, depth + 1) if k + 1 < len(args) else ()
    elif name in ("awk", "gawk", "mawk", "nawk"):
        # awk patterns only read (`/^PermitRootLogin yes/ {...}`); what it prints is written.
        printed = "\n".join(m.group(1) for m in _AWK_PRINT_RE.finditer(" ".join(args)))
        found = text_settings(printed.replace("\\n", "\n"), where, env)
    elif name in ("echo", "printf"):
        found = text_settings(_printed(args, name == "printf"), where, env)
    elif name == "sshd":
        found = _sshd_options(args, where, env)
        to_sshd = True
    elif name in _OPAQUE_WRITERS and _is_sshd_path(targets, args):
        # Decoded or downloaded at boot: what lands in sshd's configuration is not in the script.
        found = [Setting(where, OPAQUE, f"writes the output of {name} into sshd's configuration", ())]
    else:
        # Anything else (a bare config line, tee, awk, python -c, a custom helper) is read as the
        # text it carries, escaped line breaks included.
        found = text_settings(" ".join(words).replace("\\n", "\n"), where, env)
    for setting in found:
        yield setting if setting.to_sshd == to_sshd else replace(setting, to_sshd=to_sshd)


def _sshd_options(args: list[str], where: str, env: Mapping[str, Sequence[str | None]]) -> Iterator[Setting]:
    for k, a in enumerate(args):
        if a == "-o" and k + 1 < len(args):
            yield from text_settings(args[k + 1], where, env)
        elif a.startswith("-o") and len(a) > 2:
            yield from text_settings(a[2:], where, env)
        elif a == "-p" and k + 1 < len(args):
            yield Setting(where, "Port", args[k + 1], _resolve(args[k + 1], env))


def script_settings(
    script: str,
    where: str = "",
    env: Mapping[str, Sequence[str | None]] | None = None,
    depth: int = 0,
    to_sshd: bool = False,
) -> Iterator[Setting]:
    """The sshd settings a shell script (or a config file, `to_sshd`) writes."""
    if not _MENTIONS_SSHD_RE.search(script):
        return  # every form judged here names a directive (or sshd) literally somewhere
    commands = shell_commands(script)
    local: dict[str, list[str | None]] = {k: list(v) for k, v in (env or {}).items()}
    _assignments(commands, local)
    multi = "\n" in script.strip()
    prefix = f"{where} " if where else ""
    previous: Command | None = None
    for cmd in commands:
        label = f"{prefix}line {cmd.line}" if multi or not where else where
        if cmd.after_pipe and previous is not None and _runs_decoded(previous, cmd):
            yield Setting(label, OPAQUE, f"runs a decoded script ({' '.join(previous.words[:3])} | {cmd.words[0]})", ())
        previous = cmd
        for setting in _command_settings(cmd.words, label, local, depth):
            yield replace(setting, to_sshd=True) if to_sshd else setting
        for body, expands in cmd.heredocs:
            yield from text_settings(
                body, prefix.strip(), local if expands else {}, cmd.line + 1, to_sshd or _mentions_ssh(cmd.words)
            )


def _mentions_ssh(words: Sequence[str]) -> bool:
    return any("ssh" in w for w in words)


# --- cloud-config --------------------------------------------------------------------------------

_TRUE_WORDS = {"true", "yes", "on", "1", "y"}
_FALSE_WORDS = {"false", "no", "off", "0", "n"}
_PASSWORD_KEYS = ("passwd", "hashed_passwd", "plain_text_password", "password")
_SHELL_ROOT_PW_RE = re.compile(r"(?<![\w/.-])root:[^\s'\":]+")
_DISABLE_ROOT_RE = re.compile(r"^\s*-?\s*[\"']?disable_root[\"']?\s*:\s*[\"']?(false|no|off|0)[\"']?\s*(?:#.*)?$", re.I)
_SSH_PWAUTH_RE = re.compile(r"^\s*-?\s*[\"']?ssh_pwauth[\"']?\s*:\s*[\"']?(true|yes|on|1)[\"']?\s*(?:#.*)?$", re.I)


def _word(value: Any) -> str:
    return str(value).strip().lower()


def _is_true(value: Any) -> bool:
    return value is True or (
        isinstance(value, (str, int)) and not isinstance(value, bool) and _word(value) in _TRUE_WORDS
    )


def _is_false(value: Any) -> bool:
    return value is False or (
        isinstance(value, (str, int)) and not isinstance(value, bool) and _word(value) in _FALSE_WORDS
    )


_JINJA_HEADER_RE = re.compile(r"\A\s*##\s*template:\s*jinja[^\n]*\n", re.IGNORECASE)


def _body(text: str) -> str:
    """The document without cloud-init's ``## template: jinja`` first line (it renders the rest)."""
    return _JINJA_HEADER_RE.sub("", text, count=1).lstrip()


def is_cloud_config(text: str) -> bool:
    return _body(text).lower().startswith("#cloud-config")


def is_cloud_config_archive(text: str) -> bool:
    return _body(text).lower().startswith("#cloud-config-archive")


#: libyaml's loader when the wheel has it (about ten times faster); the same safe constructors.
_YAML_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse_cloud_config(text: str) -> dict[str, Any] | None:
    """A cloud-config document (YAML or JSON) as a dict, None when it is not one."""
    stripped = _body(text)
    if not (is_cloud_config(stripped) or stripped.startswith("{")):
        return None
    try:
        doc = yaml.load(stripped, Loader=_YAML_LOADER)
    except yaml.YAMLError:
        try:
            doc = json.loads(stripped)
        except ValueError:
            return None
    return doc if isinstance(doc, dict) else None


_ENCODINGS = {
    "b64": ("b64",),
    "base64": ("b64",),
    "gz": ("gz",),
    "gzip": ("gz",),
    "gz+b64": ("b64", "gz"),
    "gz+base64": ("b64", "gz"),
    "gzip+b64": ("b64", "gz"),
    "gzip+base64": ("b64", "gz"),
    "text/plain": (),
}


def _write_file_text(entry: Mapping[str, Any]) -> str | None:
    """The decoded content of a write_files entry, None when it cannot be decoded."""
    content = entry.get("content", "")
    steps = _ENCODINGS.get(_word(entry.get("encoding") or "text/plain"))
    if steps is None:
        return None
    data: bytes | None = content if isinstance(content, bytes) else str(content or "").encode()
    for step in steps:
        if data is None:
            return None
        if step == "b64" and not isinstance(content, bytes):
            data = _b64_bytes(data.decode("utf-8", "replace"))
        elif step == "gz":
            data = _gunzip(data)
    # Gzip under a plain `b64` encoding is still unpacked: cloud-init writes it as is, but the
    # content must not escape judgement by a mislabelled encoding.
    return None if data is None else bytes_to_text(data)


def _command_entry_settings(entry: Any, where: str) -> Iterator[Setting]:
    """A runcmd/bootcmd entry: a string is run by sh, a list is an argv."""
    if isinstance(entry, str):
        yield from script_settings(entry, where)
    elif isinstance(entry, list):
        yield from _command_settings([str(w) for w in entry], where, {})


#: At most this many values of a cloud-config are walked: YAML aliases can make a small document
#: expand into billions of values (or refer to itself).
MAX_CLOUD_CONFIG_VALUES = 20_000


class _TooLarge(Exception):
    pass


def _strings(value: Any, path: str, budget: list[int], depth: int = 0) -> Iterator[tuple[str, str]]:
    budget[0] -= 1
    if budget[0] < 0 or depth > 64:
        raise _TooLarge
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(v, f"{path}.{k}" if path else str(k), budget, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _strings(v, f"{path}[{i}]", budget, depth + 1)


def _cloud_config_writes(doc: dict[str, Any], out: Writes) -> None:
    if _is_false(doc.get("disable_root")):
        out.findings.append("cloud-init 'disable_root: false' lets root log in; remove it")
    if _is_true(doc.get("ssh_pwauth")):
        out.findings.append("cloud-init 'ssh_pwauth: true' turns on SSH password login; remove it")
    ch = doc.get("chpasswd")
    if isinstance(ch, dict):
        entries = ch.get("list")
        lines = entries.splitlines() if isinstance(entries, str) else [str(e) for e in entries or []]
        users = [u for u in ch.get("users") or [] if isinstance(u, dict)]
        if any(line.strip().startswith("root:") for line in lines) or any(
            str(u.get("name", "")).strip() == "root" and u.get("password") for u in users
        ):
            note = " that never expires (expire: false)" if ch.get("expire") is False else ""
            out.findings.append(f"cloud-init chpasswd sets a root password{note}; remove it")
    users_value = doc.get("users")
    users_list = list(users_value) if isinstance(users_value, list) else [users_value]
    default_user = (
        (doc.get("system_info") or {}).get("default_user") if isinstance(doc.get("system_info"), dict) else None
    )
    if isinstance(default_user, dict):
        # The distro's default user, configured here instead of under `users`.
        users_list.append({"name": "default_user", **default_user})
    for i, user in enumerate(users_list):
        if not isinstance(user, dict):
            continue
        lock = user.get("lock_passwd", user.get("lock-passwd", True))
        if _is_false(lock) and any(user.get(k) for k in _PASSWORD_KEYS):
            out.findings.append(
                f"cloud-init user {user.get('name', i)!r} has lock_passwd: false and a password; lock it (lock_passwd: true) and use SSH keys"
            )
    files = doc.get("write_files")
    for i, entry in enumerate(files if isinstance(files, list) else []):
        if not isinstance(entry, dict):
            continue
        path = str(entry.get("path", ""))
        where = f"write_files[{i}] ({path})"
        if "content" not in entry and "source" in entry:
            if "ssh" in path:
                out.findings.append(
                    f"{where} is fetched from a URL, so what it writes cannot be judged (failing closed)"
                )
            continue
        content = _write_file_text(entry)
        if content is None:
            out.findings.append(
                f"{where} content with encoding {entry.get('encoding')!r} cannot be decoded (failing closed); use b64, gz+b64 or plain content"
            )
            continue
        if "ssh" in path:
            # sshd reads this file as configuration: line by line, no shell quoting.
            out.settings.extend(text_settings(content, where, {}, 1))
        else:
            out.settings.extend(script_settings(content, where))
    for key in ("bootcmd", "runcmd"):
        cmds = doc.get(key)
        for i, entry in enumerate(cmds if isinstance(cmds, list) else [cmds] if cmds else []):
            out.settings.extend(_command_entry_settings(entry, f"{key}[{i}]"))
    handled = {"disable_root", "ssh_pwauth", "chpasswd", "users", "write_files", "bootcmd", "runcmd"}
    budget = [MAX_CLOUD_CONFIG_VALUES]
    try:
        for key, value in doc.items():
            if str(key) in handled:
                continue
            for path, text in _strings(value, str(key), budget):
                out.settings.extend(script_settings(text, path))
    except _TooLarge:
        out.findings.append(
            f"cloud-config has more than {MAX_CLOUD_CONFIG_VALUES} values (or nests deeper than 64 levels, e.g. "
            "through YAML aliases), so it cannot be judged; simplify it (failing closed)"
        )


def _line_findings(text: str) -> Iterator[str]:
    """Tell-tale lines of cloud-config that does not parse, and root passwords set by chpasswd."""
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip().startswith("#"):
            continue
        if _DISABLE_ROOT_RE.match(line):
            yield f"line {lineno}: cloud-init 'disable_root: false' lets root log in; remove it"
        if _SSH_PWAUTH_RE.match(line):
            yield f"line {lineno}: cloud-init 'ssh_pwauth: true' turns on SSH password login; remove it"


#: Boot documents up to this size are remembered: the resource rules and the stack rules of one
#: run read the same user data.
_CACHE_MAX_TEXT = 64 * 1024


def document_writes(text: str) -> Writes:
    """What one boot document writes: a cloud-config by its keys, anything else as a script.

    The result is shared between callers (cached): do not modify it.
    """
    if len(text) <= _CACHE_MAX_TEXT:
        return _cached_writes(text)
    return _document_writes(text)


@functools.lru_cache(maxsize=256)
def _cached_writes(text: str) -> Writes:
    return _document_writes(text)


def _document_writes(text: str) -> Writes:
    out = Writes()
    for lineno, line in enumerate(text.splitlines(), 1):
        code = line.split("#", 1)[0]
        if "chpasswd" in code and _SHELL_ROOT_PW_RE.search(code):
            out.findings.append(f"line {lineno}: sets a root password with chpasswd; remove it")
    if is_cloud_config_archive(text):
        # A YAML list of parts, each a document of its own (shell script, cloud-config ...).
        try:
            parts = yaml.load(_body(text), Loader=_YAML_LOADER)
        except yaml.YAMLError:
            parts = None
        if isinstance(parts, list):
            for i, part in enumerate(parts):
                content = part.get("content") if isinstance(part, dict) else part
                if isinstance(content, str):
                    inner = _document_writes(content)
                    out.settings.extend(replace(st, where=f"part {i} {st.where}".strip()) for st in inner.settings)
                    out.findings.extend(f"part {i} {f}" for f in inner.findings)
            return out
    doc = _parse_cloud_config(text)
    if doc is not None:
        _cloud_config_writes(doc, out)
        return out
    if is_cloud_config(text):
        # Not parseable YAML: fall back to the tell-tale keys and read every line as a script.
        out.findings.extend(_line_findings(text))
        if re.search(r"lock_passwd\s*:\s*[\"']?false", text, re.I) and re.search(
            r"\b(passwd|hashed_passwd|plain_text_password)\s*:\s*\S", text
        ):
            out.findings.append(
                "cloud-init user has lock_passwd: false and a password; lock it (lock_passwd: true) and use SSH keys"
            )
    out.settings.extend(script_settings(text))
    return out


def login_problems(setting: Setting, root_accepted: Iterable[str]) -> str | None:
    """Why a written sshd setting opens root or password login, None when it does not."""
    if setting.key == OPAQUE:
        return f"{setting.where} {setting.value}, which cannot be judged; write the settings literally (failing closed)"
    key = setting.key.lower()
    valid = LOGIN_DIRECTIVES.get(key)
    if valid is None:
        return None
    accepted = {v.lower() for v in root_accepted} if key == "permitrootlogin" else {"no"}
    shown = f"'{setting.key} {setting.value}'"
    if not setting.values:
        return f"{setting.where} sets {shown}, a value the script does not fix; write a literal 'no' (failing closed)"
    bad = [v for v in setting.values if v in valid and v not in accepted]
    if bad:
        need = " or ".join(repr(v) for v in sorted(accepted)) if key == "permitrootlogin" else "'no'"
        resolved = "" if bad == [setting.value.lower()] else f" (resolves to {', '.join(bad)})"
        return f"{setting.where} sets {shown}{resolved}; boot data must leave it at {need}"
    return None


def sshd_ports(text: str) -> set[int]:
    """Literal ports sshd is told to listen on (``Port``, ``sshd -p``) by one boot document."""
    ports: set[int] = set()
    for s in document_writes(text).settings:
        if s.key.lower() == "port" and s.to_sshd:
            ports.update(int(v) for v in s.values if v.isdigit())
    return ports


# ---------------------------------------------------------------------------------------------
# Code the boot data fetches and runs (downloads the pack cannot read)
#
# A download is judged by what happens to it, not by its mention: ``curl -o key.asc URL`` that is
# only moved into a keyring is data; the same file run by a shell, sourced, installed as a package
# or piped into an interpreter is code the pack never sees. Taint flows from a fetch to files
# (``-o``, ``>``, ``tee``, ``cp``/``mv``/``install``, unpacked archives and clones), variables
# (``S=$(curl ...)``) and pipes; a tainted file, variable, stream or substitution reaching an
# interpreter, ``source``/``.``, ``eval``, a command position or a package installer is a finding.


@dataclass(frozen=True)
class Origin:
    """Where tainted data came from: the literal URLs, and whether some URL is not literal."""

    urls: tuple[str, ...] = ()
    unresolved: bool = False

    def __or__(self, other: Origin) -> Origin:
        urls = self.urls + tuple(u for u in other.urls if u not in self.urls)
        return Origin(urls, self.unresolved or other.unresolved)


@dataclass(frozen=True)
class Download:
    """Code a boot document fetches from somewhere and runs (or hands to something that runs it)."""

    where: str
    """Where in the document, e.g. ``line 3`` or ``runcmd[1]``."""
    how: str
    """What it does, e.g. ``pipes curl into sh``."""
    urls: tuple[str, ...]
    """The literal URLs it fetches from."""
    unresolved: bool
    """Whether some URL is not fixed by the document (a variable, a command's output)."""
    unsigned: bool = False
    """A package source or install with signature (or TLS) checks off, rather than code run."""


_URL_RE = re.compile(r"(?<![\w.+-])(?:https?|ftps?|s3|gs|tftp|git|ssh|rsync|sftp|scp)://[^\s'\"`<>|;)]+", re.I)
_URL_WORD_RE = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@[\w.-]+:)", re.I)
#: Cheap pre-filter (lowercase substrings, much faster than one regex of alternatives): a text
#: that mentions none of these fetches nothing we recognise. Over-inclusive on purpose.
_FETCH_WORDS = (
    "://", "curl", "wget", "fetch", "aria2c", "gsutil", "gcloud", "aws", "azcopy", "az ", "git", "scp", "rsync",
    "sftp", "url", "requests", "http", "lwp", "open-uri", "/dev/tcp", "/dev/udp", "download", "invoke-", "iwr",
    "irm", "certutil", "bitsadmin", "#include", "socket", "base64", "gunzip", "zcat", "gzip", "xxd", "openssl",
)  # fmt: skip


def _mentions_fetch(text: str) -> bool:
    low = text.lower()
    return any(w in low for w in _FETCH_WORDS)


#: Downloaders whose output is stdout unless told otherwise (and the URL is an argument).
_FETCHERS = {"curl", "wget", "wget2", "fetch", "aria2c", "http", "https", "xh", "lwp-request", "lwp-download", "GET"}
_INTERPRETERS = _SHELLS | {
    "busybox", "python", "python2", "python3", "pypy", "pypy3", "perl", "ruby", "node", "nodejs", "deno", "bun",
    "php", "lua", "pwsh", "powershell", "tclsh", "Rscript", "osascript",
}  # fmt: skip
#: Inline-program flags of the interpreters (``-c`` for shells and python, ``-e`` for perl ...).
_INLINE_FLAGS = {"-c", "-e", "-E", "--eval", "-r", "--command", "-Command", "-command", "-EncodedCommand"}
_SOURCE = {"source", ".", "eval"}
_STDIN_OPERANDS = {"-", "/dev/stdin", "/dev/fd/0", "/proc/self/fd/0"}
#: Options of prefix commands (sudo, su, timeout ...) that take an argument.
_PREFIX_ARG_OPTS = {
    "sudo": {"-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U", "-T", "--user", "--group", "--chdir"},
    "doas": {"-u", "-C"},
    "runuser": {"-u", "-g", "-G", "--user", "--group"},
    "nice": {"-n", "--adjustment"},
    "timeout": {"-s", "-k", "--signal", "--kill-after"},
    "stdbuf": {"-i", "-o", "-e"},
    "ionice": {"-c", "-n", "-p"},
    "chroot": set(),
    "flock": {"-w", "-E", "--timeout", "--conflict-exit-code"},
    "systemd-run": {"-p", "-u", "--unit", "--property", "-E", "--setenv", "--uid", "--gid", "-M", "--machine"},
    "nsenter": {"-t", "--target"},
}
_NET_CODE_RE = re.compile(
    r"urlopen|urllib|urlretrieve|requests\.(?:get|post|request|Session)|http\.client|httplib|httpx|aiohttp|"
    r"LWP|HTTP::Tiny|getstore|open-uri|Net::HTTP|URI\.open|https?\.get|\bfetch\(|file_get_contents\(\s*['\"](?:https?|ftp)|"
    r"DownloadString|DownloadFile|DownloadData|Invoke-WebRequest|Invoke-RestMethod|\biwr\b|\birm\b|Start-BitsTransfer|"
    r"WebClient|socket\.|IO::Socket",
    re.IGNORECASE,
)
_EXEC_CODE_RE = re.compile(
    r"\bexec\s*\(|\beval\b|\bcompile\s*\(|os\.system|subprocess|Popen|os\.exec|os\.spawn|\bsystem\s*\(|`|"
    r"\bspawn\b|child_process|execSync|\bdo\s*\(|require\s*\(\s*['\"]child|Invoke-Expression|\biex\b|Start-Process|"
    r"\[scriptblock\]::Create|msiexec|&\s*\$|&\s*['\"(]|\bimport_module\b|__import__|runpy|shell_exec|passthru|proc_open",
    re.IGNORECASE,
)
_DEV_NET_READ_RE = re.compile(r"(?:<>?|<&)\s*/dev/(?:tcp|udp)/")
#: Paths the system runs by itself: a downloaded file placed there is run without a command.
_AUTORUN_RE = re.compile(
    r"^(?:/etc/systemd/|/usr/lib/systemd/|/lib/systemd/|/run/systemd/|/etc/cron|/var/spool/cron/|/etc/anacrontab|"
    r"/etc/profile|/etc/bash\.bashrc|/etc/bashrc|/root/\.(?:bashrc|profile|bash_profile)|/etc/rc\.local|/etc/rc\.d/|"
    r"/etc/init\.d/|/etc/cloud/|/var/lib/cloud/|/etc/ld\.so\.preload|/etc/apt/apt\.conf\.d/|/etc/udev/rules\.d/|"
    r"/etc/NetworkManager/dispatcher\.d/|/etc/network/if-[a-z-]+\.d/|/etc/update-motd\.d/|/etc/yum/pluginconf\.d/|"
    r"/etc/dnf/plugins/)"
)
#: Package sources or installs with signature checks turned off (the one way a package manager
#: install becomes an unreviewed download).
_UNSIGNED_RE = re.compile(
    r"\[[^\]\n]*\btrusted\s*=\s*yes[^\]\n]*\]\s*(?P<url>[a-z][a-z0-9+.-]*://[^\s'\"]+)?|"
    r"--allow-unauthenticated|--allow-insecure-repositories|--nogpgcheck|--no-gpg-checks|--nosignature|"
    r"AllowUnauthenticated\s+\"?(?:true|1)|\bgpgcheck\s*[=:]\s*['\"]?(?:0|false|no|off)\b",
    re.IGNORECASE,
)
_UNSIGNED_HINTS = ("trusted", "unauthenticated", "insecure", "gpgcheck", "nogpg", "no-gpg", "nosignature")
_WIN_HINTS = (
    "download",
    "invoke-webrequest",
    "invoke-restmethod",
    "iwr",
    "irm",
    "bitstransfer",
    "certutil",
    "bitsadmin",
)
_WIN_FETCH_RE = re.compile(
    r"DownloadString|DownloadFile|DownloadData|Invoke-WebRequest|Invoke-RestMethod|Start-BitsTransfer|"
    r"(?<![\w-])(?:iwr|irm)(?![\w-])|certutil(?:\.exe)?\s+[^\n]*-urlcache|bitsadmin(?:\.exe)?\s+[^\n]*/transfer",
    re.IGNORECASE,
)
_WIN_EXEC_RE = re.compile(
    r"Invoke-Expression|(?<![\w-])iex(?![\w-])|Start-Process|\[scriptblock\]::Create|msiexec|(?<![\w])&\s*[$'\"(]|"
    r"\.\\|cmd(?:\.exe)?\s+/c|powershell(?:\.exe)?\s+[^\n]*-File|regsvr32|rundll32|mshta|Add-Type|Import-Module",
    re.IGNORECASE,
)
_VAR_REF_RE = re.compile(r"\$\{(\w+)[^}]*\}|\$(\w+)")
_PKG_INSTALL_VERBS = {"install", "localinstall", "reinstall", "upgrade", "update", "in", "-i", "-U"}
_FUNCTION_RE = re.compile(
    r"(?:^|[\s;&|{(])(?:function\s+([A-Za-z_][\w-]*)(?:\s*\(\s*\))?|([A-Za-z_][\w-]*)\s*\(\s*\))\s*(?=[{(])", re.M
)
#: A function body that runs one of its arguments as a script (``bash "$1"``, ``. "$@"``).
_RUNS_ARGUMENT_RE = re.compile(
    r"(?<![\w-])(?:sh|bash|dash|zsh|ksh|source|\.|eval|python\d?|perl|ruby|node|dpkg|rpm)\s+(?:-\S+\s+)*"
    r"[\"']?\$\{?([1-9@*])",
    re.M,
)
#: A function body that runs its arguments as a command (``retry() { "$@"; }``): a wrapper.
_WRAPS_COMMAND_RE = re.compile(
    r"(?:^|[;&|{(!\n]|\bthen|\bdo|\bexec|\bsudo|\buntil|\bwhile|\bif|\belse)\s*[\"']?\$\{?([1-9@*])", re.M
)
_BUILDERS = {"make", "gmake", "cmake", "ninja", "meson", "configure", "mvn", "gradle", "cargo", "go"}
_PKG_TOOLS = {"dpkg", "rpm", "apt", "apt-get", "dnf", "yum", "zypper", "pip", "pip3", "npm", "gem", "snap"}


def _substitutions(word: str) -> list[str]:
    """Bodies of ``$(...)``, backticks and ``<(...)``/``>(...)`` in one word."""
    out: list[str] = []
    i = 0
    while i < len(word):
        if word.startswith("$((", i):
            i += 3  # arithmetic, not a command
            continue
        if (word.startswith("$(", i) or word.startswith("<(", i) or word.startswith(">(", i)) and i + 1 < len(word):
            j = _read_balanced(word, i + 1, "(", ")")
            out.append(word[i + 2 : j - 1])
            i = j
            continue
        if word[i] == "`":
            j = word.find("`", i + 1)
            if j < 0:
                break
            out.append(word[i + 1 : j])
            i = j + 1
            continue
        i += 1
    return out


def _norm_path(word: str) -> str:
    w = _unquote(word.strip())
    w = re.sub(r"\$\{(\w+)\}", r"$\1", w)
    while w.startswith("./"):
        w = w[2:]
    return w.rstrip("/")


def _basename(path: str) -> str:
    return _norm_path(path).rsplit("/", 1)[-1]


def _url_basename(url: str) -> str:
    tail = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return tail


class _Scan:
    """One boot document's shell commands read in order, following downloaded data."""

    def __init__(self) -> None:
        self.env: dict[str, list[str | None]] = {}
        self.paths: dict[str, Origin] = {}
        """Files (normalized) holding downloaded data, with their origin."""
        self.dirs: dict[str, Origin] = {}
        """Directories downloaded data was unpacked or cloned into."""
        self.unpacked: Origin | None = None
        """Set when downloaded data was unpacked into the working directory."""
        self.vars: dict[str, Origin] = {}
        """Variables assigned downloaded data (``S=$(curl ...)``)."""
        self.found: list[Download] = []
        self.where = ""
        """Where the command being read is (for findings recorded while tainting a path)."""
        self.by_base: dict[str, list[str]] = {}
        """Tainted paths by their last component (``./x.sh`` after ``curl -O .../x.sh``)."""
        self.written: dict[str, str] = {}
        """Scripts the document writes with echo/printf/here-documents, read when they are run."""
        self.functions: dict[str, tuple[set[str], set[str]]] = {}
        """Shell functions of the document that run their arguments: ``(as a command, as a
        script)``, each the positional parameters used (``"1"``, ``"@"``)."""
        self.aliases: dict[str, str] = {}
        self.decoded = False
        """Whether the last `literal_output` decoded something (base64, gzip, hex)."""

    def taint(self, path: str, origin: Origin) -> None:
        """Record that `path` holds downloaded data; a path the system runs by itself (systemd
        units, cron, profile.d, cloud-init's own config and script dirs) is run right there."""
        p = _norm_path(path)
        self.paths[p] = origin
        self.by_base.setdefault(p.rsplit("/", 1)[-1], []).append(p)
        if _AUTORUN_RE.match(p):
            self.found.append(
                Download(
                    self.where,
                    f"puts downloaded code where the system runs it ({_short(p)})",
                    origin.urls,
                    origin.unresolved,
                )
            )

    # --- what words carry ---

    def urls_of(self, words: Sequence[str]) -> Origin:
        """The URLs named by a fetcher's operands: literal, or with variables the script assigns
        literals; an operand put together at run time (``$(...)``, an unassigned variable) makes
        the origin unresolved (a trusted prefix cannot vouch for it: ``$(x)`` may be ``/../``)."""
        urls: list[str] = []
        unresolved = False
        for w in words:
            candidates = self.expand(w) if ("$" in w or "`" in w) else [w]
            if candidates is None:
                unresolved = True
                continue
            for c in candidates:
                if _URL_WORD_RE.match(c):
                    urls.append(c)
                elif "://" in c:
                    urls.extend(m.group(0) for m in _URL_RE.finditer(c))
        return Origin(tuple(dict.fromkeys(urls)), unresolved or not urls)

    def expand(self, word: str) -> list[str] | None:
        """The literal values of a word with ``$V``/``${V}`` replaced by what the script assigns
        them; None when it depends on anything else."""
        if "`" in word or "$(" in word:
            return None
        out = [word]
        for m in reversed(list(_VAR_REF_RE.finditer(word))):
            values = self.env.get(m.group(1) or m.group(2) or "") or []
            default = re.fullmatch(r"\$\{\w+:?-([^}$`]*)\}", m.group(0))
            if not values and default:
                values = [default.group(1)]  # `${CURL:-curl}` with CURL never assigned
            elif (
                not values
                or any(v is None for v in values)
                or ("{" in m.group(0) and not re.fullmatch(r"\$\{\w+\}", m.group(0)))
            ):
                return None
            out = [o[: m.start()] + _unquote(v or "") + o[m.end() :] for o in out for v in values][:16]
        return out

    def text_taint(self, text: str, depth: int = 0) -> Origin | None:
        """The origin of downloaded data a word or text carries: a tainted variable, a tainted
        file named in it, or a command substitution whose output is downloaded."""
        origin: Origin | None = None
        if "$" in text or "`" in text or "<(" in text or ">(" in text:
            for m in _VAR_REF_RE.finditer(text):
                o = self.vars.get(m.group(1) or m.group(2))
                if o is not None:
                    origin = o if origin is None else origin | o
            for body in _substitutions(text):
                if depth >= 4:
                    # Nested deeper than we read: a fetch in there counts as downloaded data.
                    o = Origin((), True) if _mentions_fetch(body) else None
                else:
                    saved = self.where
                    o = self.scan(body, saved, depth + 1)
                    self.where = saved
                if o is not None:
                    origin = o if origin is None else origin | o
        o = self.path_taint(text)
        if o is not None:
            origin = o if origin is None else origin | o
        return origin

    def path_taint(self, word: str) -> Origin | None:
        if not word or word.startswith("-") or " " in word:
            return None
        p = _norm_path(word)
        if p in self.paths:
            return self.paths[p]
        base = p.rsplit("/", 1)[-1]
        for known in self.by_base.get(base, ()):
            if known in self.paths and ("/" not in p or "/" not in known or "$" in p + known):
                return self.paths[known]
        for d, origin in self.dirs.items():
            if p.startswith(d + "/"):
                return origin
        if self.unpacked is not None and "/" in word and not word.startswith(("/", "$", "~")):
            return self.unpacked  # a relative path after downloaded data was unpacked here
        return None

    # --- reading a script ---

    def scan(self, script: str, where: str, depth: int = 0, stdin: Origin | None = None) -> Origin | None:
        """Read a script (`stdin`: what its first command reads, for ``... | sh -c '...'``);
        returns the origin of the downloaded data its last output carries."""
        if depth > 4:
            return None
        if "/dev/" in script and _DEV_NET_READ_RE.search(script):
            self.found.append(Download(where, "reads from a raw network connection (/dev/tcp)", (), True))
        commands = shell_commands(script, process_substitution=True)
        _assignments(commands, self.env)
        for m in _FUNCTION_RE.finditer(script) if "(" in script or "function" in script else ():
            body = script[
                m.end() : _read_balanced(script, m.end(), script[m.end()], "}" if script[m.end()] == "{" else ")")
            ]
            fname = m.group(1) or m.group(2)
            wraps = set(_WRAPS_COMMAND_RE.findall(body))
            runs = set(_RUNS_ARGUMENT_RE.findall(body))
            if wraps or runs:
                self.functions[fname] = (wraps, runs)
        multi = "\n" in script.strip()
        prefix = f"{where} " if where else ""
        out: Origin | None = None
        literal: bytes | None = None  # what the previous command printed, when the script fixes it
        for k, cmd in enumerate(commands):
            label = f"{prefix}line {cmd.line}" if multi or not where else where
            piped = out if cmd.after_pipe else (stdin if k == 0 else None)
            literal = self.literal_output(cmd, literal if cmd.after_pipe else None)
            if literal is not None and self.decoded and depth < 4:
                # `echo <base64> | base64 -d | sh`: the decoded text is read as the script it is.
                text = bytes_to_text(literal)
                if text is not None and _mentions_fetch(text):
                    self.scan(text, label, depth + 1)
            out = self.command(cmd.words, cmd.heredocs, piped, label, depth)
        return out

    def literal_of(self, word: str) -> str | None:
        """The text a single command substitution prints, when the script fixes it."""
        bodies = _substitutions(word)
        if len(bodies) != 1 or len(bodies[0]) + 3 < len(word):
            return None
        literal: bytes | None = None
        for cmd in shell_commands(bodies[0], process_substitution=True):
            literal = self.literal_output(cmd, literal if cmd.after_pipe else None)
        return bytes_to_text(literal) if literal is not None else None

    def literal_output(self, cmd: Command, piped: bytes | None) -> bytes | None:
        """What a command prints when the script fixes it: echo/printf of literals, here-strings
        and here-documents, and base64/gzip/xxd decoders of such text. Sets `decoded`."""
        self.decoded = False
        words = self.exec_words(list(cmd.words))
        if not words:
            return None
        name = words[0].rsplit("/", 1)[-1]
        args = words[1:]
        if "<<<" in args:
            k = args.index("<<<")
            piped = (args[k + 1] if k + 1 < len(args) else "").encode()
            args = args[:k] + args[k + 2 :]
        elif cmd.heredocs:
            piped = cmd.heredocs[0][0].encode()
        if name in ("echo", "printf"):
            printed = [self.expand(a) for a in args if a not in _REDIRECTS]
            if any(p is None or len(p) != 1 for p in printed):
                return None
            return _printed([p[0] for p in printed if p], name == "printf").encode()
        if name == "cat" and not [a for a in args if not a.startswith("-")]:
            return piped
        if piped is None:
            return None
        flags = " ".join(a for a in args if a.startswith("-"))
        if (name == "base64" and re.search(r"-\w*[dD]|--decode", flags)) or (
            name == "openssl" and "-d" in args and ("base64" in args or "-base64" in args or "-a" in args)
        ):
            data = _b64_bytes(piped.decode("utf-8", "replace"))
        elif name in ("gunzip", "zcat") or (name == "gzip" and re.search(r"-\w*d|--decompress", flags)):
            data = _gunzip(piped)
        elif name == "xxd" and "-r" in flags:
            try:
                data = bytes.fromhex(re.sub(r"\s+", "", piped.decode("ascii", "replace")))
            except ValueError:
                data = None
        elif name in ("tr", "rev", "cat"):
            return None  # transformed: not followed
        else:
            return None
        self.decoded = data is not None
        return data

    def command(
        self,
        words: list[str],
        heredocs: Sequence[tuple[str, bool]],
        stdin: Origin | None,
        where: str,
        depth: int,
    ) -> Origin | None:
        """One simple command: record what it runs, return the origin its stdout carries."""
        self.where = where
        # Redirects: inputs feed stdin, outputs take stdout.
        args: list[str] = []
        outputs: list[str] = []
        k = 0
        while k < len(words):
            w = words[k]
            if w in _REDIRECTS and k + 1 < len(words):
                target = words[k + 1]
                if w in ("<", "<&", "<>"):
                    o = self.text_taint(target, depth)
                    if o is not None:
                        stdin = o if stdin is None else stdin | o
                elif w == "<<<":
                    o = self.text_taint(target, depth)
                    if o is not None:
                        stdin = o if stdin is None else stdin | o
                    heredocs = [*heredocs, (target, False)]
                elif w not in (">&",) or not target.isdigit():
                    outputs.append(target)
                k += 2
                continue
            args.append(w)
            k += 1
        for body, expands in heredocs:
            if expands:
                o = self.text_taint(body, depth)
                if o is not None:
                    stdin = o if stdin is None else stdin | o
        # Assignments: a variable assigned downloaded data is tainted.
        lead = args
        if lead and lead[0] in _DECLARE:
            lead = [w for w in lead[1:] if not w.startswith("-")]
        only_assignments = bool(lead) and all(_ASSIGN_RE.match(w) for w in lead)
        for w in lead:
            m = _ASSIGN_RE.match(w)
            if not m:
                break
            o = self.text_taint(m.group(2), depth)
            if o is not None:
                self.vars[m.group(1)] = o
            else:
                self.vars.pop(m.group(1), None)
        if only_assignments:
            return None
        name_words = self.exec_words(args)
        if not name_words:
            return stdin
        if name_words[0] == "alias":
            for a in name_words[1:]:
                m = _ASSIGN_RE.match(a)
                if m:
                    self.aliases[m.group(1)] = m.group(2)
            return None
        if name_words[0] in self.aliases:
            name_words = [*self.aliases[name_words[0]].split(), *name_words[1:]]
        if "$" in name_words[0] and self.text_taint(name_words[0], depth) is None:
            named = self.expand(name_words[0])  # `C=curl; $C -s URL | sh`
            if named and len(set(named)) == 1 and named[0].strip():
                name_words = [*named[0].split(), *name_words[1:]]
            elif not re.fullmatch(r"\$\{?[@*1-9]\}?", name_words[0]):
                # A command the script does not name: what it prints cannot be known.
                self.run(name_words[0], name_words[0], name_words[1:], heredocs, stdin, where, depth)
                return Origin((), True)
        name = name_words[0].rsplit("/", 1)[-1]
        rest = name_words[1:]
        skipped = args[: len(args) - len(name_words)]
        if stdin is not None and any(w.rsplit("/", 1)[-1] == "xargs" for w in skipped):
            # xargs hands its input to the command as arguments: a script for `sh -c`, a path ...
            if name in _INTERPRETERS or name in _SOURCE:
                self.found.append(
                    Download(where, f"passes downloaded code to {name} through xargs", stdin.urls, stdin.unresolved)
                )
                return None
        files = [*outputs, *(a for a in rest if name == "tee" and not a.startswith("-"))]
        if files and name in ("cat", "tee", "echo", "printf"):
            # A script written here is read when something runs it; a here-document that fetches
            # is read now as well (like write_files content: it is written to be run).
            text = "\n".join(b for b, _ in heredocs) if heredocs else _printed(rest, name == "printf")
            for f in files:
                p = _norm_path(f)
                self.written[p] = self.written.get(p, "") + "\n" + text
            if heredocs and depth < 4 and _mentions_fetch(text):
                self.scan(text, where, depth + 1)
        produced = self.run(name, name_words[0], rest, heredocs, stdin, where, depth)
        if self.paths and any(_AUTORUN_RE.match(_norm_path(t)) for t in files):
            # A unit, cron entry or profile script written here that starts a downloaded file.
            self.autorun_refs(" ".join([*rest, *(b for b, _ in heredocs)]), where)
        if produced is not None and outputs:
            for target in outputs:
                if not target.startswith("/dev/null") and not target.isdigit():
                    self.taint(target, produced)
            return None
        return produced

    def run_written(self, word: str, where: str, depth: int) -> None:
        """Read a script the document wrote itself, now that it is run."""
        text = self.written.pop(_norm_path(word), None) if self.written else None
        if text is not None and depth < 4:
            self.scan(text, where, depth + 1)

    def autorun_refs(self, text: str, where: str) -> None:
        """A file the system runs by itself that names a downloaded file (``ExecStart=/opt/x``)."""
        for path, origin in list(self.paths.items()):
            if path.startswith("/") and re.search(rf"(?<![\w/.-]){re.escape(path)}(?![\w/.-])", text):
                self.found.append(
                    Download(
                        where, f"has the system start downloaded code ({_short(path)})", origin.urls, origin.unresolved
                    )
                )

    def exec_words(self, words: list[str]) -> list[str]:
        """The words from the command that runs on (keywords, assignments and prefixes dropped)."""
        i = 0
        while i < len(words):
            w = words[i]
            base = w.rsplit("/", 1)[-1]
            if w in _KEYWORDS or _ASSIGN_RE.match(w) or base in ("then", "do", "else"):
                i += 1
            elif base in _PREFIXES or base in _PREFIX_ARG_OPTS or base in ("doas", "setsid", "time", "chrt"):
                takes = _PREFIX_ARG_OPTS.get(base, set())
                i += 1
                if base in ("chroot", "flock") and i < len(words):
                    while i < len(words) and words[i].startswith("-"):
                        i += 2 if words[i] in takes else 1
                    i += 1  # the new root / the lock file
                    continue
                while i < len(words) and (words[i].startswith("-") or _ASSIGN_RE.match(words[i])):
                    if words[i] == "--":
                        i += 1
                        break
                    i += 2 if words[i] in takes else 1
                if (base == "timeout" and i < len(words) and re.fullmatch(r"[\d.]+[smhd]?", words[i])) or (
                    base == "chrt" and i < len(words) and words[i].isdigit()
                ):
                    i += 1
            elif base == "busybox" and i + 1 < len(words):
                i += 1
            else:
                break
        return words[i:]

    def run(
        self,
        name: str,
        first: str,
        args: list[str],
        heredocs: Sequence[tuple[str, bool]],
        stdin: Origin | None,
        where: str,
        depth: int,
    ) -> Origin | None:
        found = self.found
        # The command word itself: a downloaded file, variable or substitution run as a program.
        o = self.text_taint(first, depth) if first not in _SOURCE else None
        if o is not None and name not in _READERS:
            found.append(Download(where, f"runs downloaded code ({_short(first)})", o.urls, o.unresolved))
            return o
        if "/" in first:
            self.run_written(first, where, depth)
        if name in self.functions:
            wraps, runs = self.functions[name]
            if wraps and args:
                # `retry curl ... | sh`, `retry bash /tmp/x`: the arguments are the command.
                start = 0 if wraps & {"@", "*", "1"} else int(min(wraps)) - 1
                return self.command(args[start:], heredocs, stdin, where, depth + 1) if depth < 4 else None
            # A function that runs an argument as a script, handed a downloaded one.
            carried: Origin | None = None
            for k, a in enumerate(args):
                if runs & {"@", "*", str(k + 1)}:
                    t = self.text_taint(a, depth)
                    if t is not None:
                        carried = t if carried is None else carried | t
            if carried is not None:
                found.append(
                    Download(
                        where, f"hands downloaded data to the shell function {name}", carried.urls, carried.unresolved
                    )
                )
            return None
        if self.unpacked is not None and name in _BUILDERS:
            u = self.unpacked  # `make install` in a downloaded source tree runs its Makefile
            found.append(Download(where, f"builds downloaded code ({name})", u.urls, u.unresolved))
            return None
        # Fetchers.
        if name in _FETCHERS:
            return self.fetch(name, args, where)
        cloud = self.cloud_copy(name, args)
        if cloud is not None:
            return cloud
        if name == "git" and args and args[0] == "clone":
            operands = [a for a in args[1:] if not a.startswith("-")]
            origin = self.urls_of(operands[:1])
            if operands:
                target = operands[1] if len(operands) > 1 else _url_basename(operands[0]).removesuffix(".git")
                self.dirs[_norm_path(target)] = origin
            self.unpacked = origin if self.unpacked is None else self.unpacked | origin
            return None
        if name in ("scp", "rsync", "sftp") and any(_URL_WORD_RE.match(a) or re.match(r"^[\w.@-]+:", a) for a in args):
            operands = [a for a in args if not a.startswith("-")]
            remote = [a for a in operands[:-1] if ":" in a]
            origin = Origin(tuple(remote), not remote)
            if operands:
                self.taint(operands[-1], origin)
                self.taint(operands[-1] + "/" + _basename(operands[0]), origin)
            return None
        # Everything that runs its input or an operand as code.
        if name in _SOURCE:
            carried: Origin | None = None
            for a in args if name == "eval" else args[:1]:
                t = self.text_taint(a, depth)
                if t is None and name != "eval" and a in _STDIN_OPERANDS:
                    t = stdin
                if t is not None:
                    carried = t if carried is None else carried | t
            if name != "eval" and not args and stdin is not None:
                carried = stdin
            if name != "eval" and args and carried is None:
                self.run_written(args[0], where, depth)
            if carried is not None:
                found.append(
                    Download(
                        where,
                        f"{'evaluates' if name == 'eval' else 'sources'} downloaded code",
                        carried.urls,
                        carried.unresolved,
                    )
                )
            if name == "eval" and depth < 4:
                return self.scan(" ".join(args), where, depth + 1, stdin)
            return None
        if name in _INTERPRETERS or re.fullmatch(r"python\d[\d.]*|perl\d[\d.]*|ruby\d[\d.]*|php\d[\d.]*", name):
            return self.interpreter(name, args, heredocs, stdin, where, depth)
        if name in _PKG_TOOLS:
            self.package(name, args, stdin, where, depth)
            return None
        if name in ("su", "runuser") and "-c" in args:
            k = args.index("-c")
            if k + 1 < len(args):
                return self.inline_shell(args[k + 1], stdin, where, depth)
            return None
        if name in ("tar", "bsdtar", "unzip", "7z", "cpio", "gunzip", "bunzip2", "unxz", "zstd"):
            return self.unpack(name, args, stdin, depth)
        if name in ("cp", "mv", "install", "ln", "rsync", "dd"):
            self.copy(name, args, depth)
            return None
        if name in ("tee",):
            if stdin is not None:
                for a in args:
                    if not a.startswith("-"):
                        self.taint(a, stdin)
            return stdin
        if name in ("crontab", "at", "batch"):
            scheduled = stdin
            for a in args:
                t = self.text_taint(a, depth)
                if t is not None:
                    scheduled = t if scheduled is None else scheduled | t
            if scheduled is not None:  # `crontab /tmp/downloaded`, `curl ... | at now`
                found.append(
                    Download(where, f"schedules downloaded code ({name})", scheduled.urls, scheduled.unresolved)
                )
            return None
        if name in ("chmod", "chown", "rm", "mkdir", "touch", "sleep", "true", ":", "exit", "return", "set", "shift"):
            return None
        if name in _READERS and name not in ("cat", "head", "tail", "sort", "uniq"):
            return None
        # Any other command passes downloaded data on (filters, decoders, jq, sed ...).
        carried = stdin
        for a in args:
            t = self.text_taint(a, depth)
            if t is not None:
                carried = t if carried is None else carried | t
        return carried

    def fetch(self, name: str, args: list[str], where: str) -> Origin | None:
        """A downloader: its URLs; its output (stdout, or the files it writes)."""
        operands: list[str] = []
        out_file: str | None = None
        remote_name = name in ("wget", "wget2", "aria2c", "lwp-download")
        out_dir = ""
        k = 0
        while k < len(args):
            a = args[k]
            nxt = args[k + 1] if k + 1 < len(args) else ""
            if a.startswith("--"):
                key, _, val = a.partition("=")
                if key in ("--output", "--output-document", "--out"):
                    out_file = val if _ else nxt
                    k += 1 if not _ else 0
                elif key in ("--remote-name", "--remote-name-all"):
                    remote_name = True
                elif key in ("--directory-prefix", "--dir", "--output-dir"):
                    out_dir = val if _ else nxt
                    k += 1 if not _ else 0
                elif key == "--url":
                    operands.append(val if _ else nxt)
                    k += 1 if not _ else 0
                elif key == "--input-file" or key == "--config":
                    operands.append("$(input-file)")
            elif a.startswith("-") and len(a) > 1 and not _URL_WORD_RE.match(a):
                flags = a[1:]
                out_flag = "o" if name in ("curl", "http", "https", "xh") else "O"
                for j, f in enumerate(flags):
                    if f == out_flag or (name == "aria2c" and f == "o"):
                        out_file = flags[j + 1 :] or nxt
                        if not flags[j + 1 :]:
                            k += 1
                        break
                    if name == "curl" and f == "O":
                        remote_name = True
                    elif name in ("wget", "wget2") and f == "P":
                        out_dir = flags[j + 1 :] or nxt
                        k += 0 if flags[j + 1 :] else 1
                        break
                    elif name in ("wget", "wget2") and f == "i":
                        operands.append("$(input-file)")
                    elif (name == "curl" and f in "HdXuAeKmwTxbcFrCEYyzQ") or (
                        name in ("wget", "wget2") and f in "tTeUaoD"
                    ):
                        k += 0 if flags[j + 1 :] else 1  # an option with an argument
                        break
            else:
                operands.append(a)
            k += 1
        origin = self.urls_of(operands)
        if out_file is not None and out_file != "-":
            self.taint(out_file, origin)
            return None
        if remote_name and out_file is None:
            for u in origin.urls or ("",):
                base = _url_basename(u) if u else "index.html"
                self.taint(f"{out_dir}/{base}" if out_dir else base, origin)
            if not origin.urls:
                self.unpacked = origin  # a file whose name we cannot tell
            return None
        return origin

    def cloud_copy(self, name: str, args: list[str]) -> Origin | None:
        """``aws s3 cp``, ``gsutil cp/cat``, ``gcloud storage cp/cat``, ``azcopy copy``,
        ``az storage blob download``: stdout origin, or None (files tainted)."""
        sub = [a for a in args if not a.startswith("-")]
        if name == "aws" and sub[:2] in (["s3", "cp"], ["s3", "sync"], ["s3api", "get-object"]):
            operands = sub[2:]
        elif name == "gsutil" and sub[:1] in (["cp"], ["cat"], ["rsync"]):
            operands = sub[1:]
        elif name == "gcloud" and sub[:2] in (["storage", "cp"], ["storage", "cat"], ["storage", "rsync"]):
            operands = sub[2:]
        elif name == "azcopy" and sub[:1] in (["copy"], ["cp"], ["sync"]):
            operands = sub[1:]
        elif name == "az" and sub[:3] == ["storage", "blob", "download"]:
            k = next((i for i, a in enumerate(args) if a in ("--file", "-f")), -1)
            src = [a for i, a in enumerate(args) if i > 0 and args[i - 1] in ("--blob-url", "--url", "--name", "-n")]
            origin = Origin(tuple(src), True)
            if 0 <= k < len(args) - 1:
                self.taint(args[k + 1], origin)
                return None
            return origin
        else:
            return None
        remote = [a for a in operands if _URL_WORD_RE.match(a)]
        origin = Origin(tuple(remote), not remote)
        dest = operands[-1] if len(operands) >= 2 else ("-" if sub[:1] == ["cat"] or sub[1:2] == ["cat"] else "")
        if dest in ("-", ""):
            return origin
        if _URL_WORD_RE.match(dest):
            return None  # an upload
        self.taint(dest, origin)
        for u in remote:
            self.taint(f"{dest}/{_url_basename(u)}", origin)
        if "sync" in sub[:2] or "--recursive" in args or "-r" in args or "-R" in args:
            self.dirs[_norm_path(dest)] = origin
        return None

    def interpreter(
        self,
        name: str,
        args: list[str],
        heredocs: Sequence[tuple[str, bool]],
        stdin: Origin | None,
        where: str,
        depth: int,
    ) -> Origin | None:
        found = self.found
        shell = name in _SHELLS
        inline: str | None = None
        operand: str | None = None
        reads_stdin = False
        k = 0
        while k < len(args):
            a = args[k]
            if shell and a.startswith("-") and not a.startswith("--") and "s" in a[1:]:
                reads_stdin = True  # `sh -s -- args`: the script comes from stdin
            if a in _INLINE_FLAGS or (shell and a.startswith("-") and not a.startswith("--") and "c" in a[1:]):
                inline = args[k + 1] if k + 1 < len(args) else ""
                break
            if a == "--":
                operand = args[k + 1] if k + 1 < len(args) else None
                break
            if (a.startswith("-") or (shell and a.startswith("+"))) and a not in _STDIN_OPERANDS:
                if a == "-m" and not shell:
                    if k + 1 < len(args) and args[k + 1] in ("pip", "pip3", "ensurepip"):
                        self.package("pip", args[k + 2 :], stdin, where, depth)
                    return None  # a module from the system's path
                takes = re.fullmatch(r"[-+][a-zA-Z]*[oO]", a) if shell else a in ("-W", "-X", "-I")
                k += 2 if takes else 1  # `bash -euo pipefail x.sh`
                continue
            operand = a
            break
        if inline is not None:
            if shell:
                return self.inline_shell(inline, stdin, where, depth, name)
            return self.inline_program(name, inline, stdin, where, depth)
        if operand is None or operand in _STDIN_OPERANDS or reads_stdin:
            if stdin is not None:
                found.append(Download(where, f"pipes downloaded code into {name}", stdin.urls, stdin.unresolved))
            for body, _expands in heredocs:
                if shell and depth < 4:
                    self.scan(body, where, depth + 1)
                elif not shell:
                    self.inline_program(name, body, None, where, depth)  # `python3 <<EOF ... EOF`
            return None
        o = self.text_taint(operand, depth)
        if o is None and self.unpacked is not None and not operand.startswith(("/", "$", "~")):
            o = self.unpacked  # `python3 setup.py install` in a downloaded source tree
        if o is not None:
            found.append(Download(where, f"runs downloaded code with {name} ({_short(operand)})", o.urls, o.unresolved))
        else:
            self.run_written(operand, where, depth)
        return None

    def inline_shell(self, code: str, stdin: Origin | None, where: str, depth: int, name: str = "sh") -> Origin | None:
        whole = code.strip()
        if (
            whole.startswith(("$(", "`")) and _substitutions(whole) and len(_substitutions(whole)) == 1
        ) or _VAR_RE.match(whole):
            o = self.text_taint(whole, depth)
            if o is not None:
                self.found.append(Download(where, f"runs downloaded code with {name} -c", o.urls, o.unresolved))
                return None
        if stdin is not None and re.search(
            r"(?<![\w-])(?:sh|bash|dash|zsh|ksh|source|eval|python\d?|perl|ruby|node)(?![\w-])|/dev/stdin|\.\s", code
        ):
            self.found.append(Download(where, f"pipes downloaded code into {name} -c", stdin.urls, stdin.unresolved))
        if depth < 4:
            return self.scan(code, where, depth + 1, stdin)
        return None

    def inline_program(self, name: str, code: str, stdin: Origin | None, where: str, depth: int) -> Origin | None:
        """``python3 -c``, ``perl -e``, ``node -e`` ...: fetches when it uses a network library;
        runs downloaded code when it also executes something, or is itself downloaded."""
        whole = self.text_taint(code.strip(), depth) if code.strip().startswith(("$", "`")) else None
        if whole is not None:
            self.found.append(Download(where, f"runs downloaded code with {name}", whole.urls, whole.unresolved))
            return None
        if code.strip().startswith(("$(", "`")):
            code = self.literal_of(code.strip()) or code  # `python3 -c "$(echo ... | base64 -d)"`
        executes = bool(_EXEC_CODE_RE.search(code))
        if _NET_CODE_RE.search(code):
            urls = tuple(m.group(0) for m in _URL_RE.finditer(code))
            origin = Origin(urls, not urls or "$" in code)
            if executes:
                self.found.append(Download(where, f"fetches and runs code in {name}", origin.urls, origin.unresolved))
                return None
            return origin
        if stdin is not None and executes:
            self.found.append(Download(where, f"pipes downloaded code into {name}", stdin.urls, stdin.unresolved))
            return None
        return stdin

    def package(self, name: str, args: list[str], stdin: Origin | None, where: str, depth: int) -> None:
        """Package installs from a downloaded file or straight from a URL (no signed repository)."""
        operands = [a for a in args if not a.startswith("-")]
        installing = name in ("dpkg", "rpm") and any(
            a.startswith("-") and not a.startswith("--") and ("i" in a or "U" in a) for a in args
        )
        installing = installing or any(v in _PKG_INSTALL_VERBS for v in operands[:1]) or "--install" in args
        if not installing:
            return
        urls = [a for a in operands if _URL_WORD_RE.match(a) and not a.startswith("git@")]
        if urls and name not in ("apt", "apt-get", "snap"):
            self.found.append(
                Download(where, f"installs a package straight from a URL with {name}", tuple(urls), False)
            )
        for a in operands:
            o = self.text_taint(a, depth)
            if o is not None:
                self.found.append(
                    Download(where, f"installs a downloaded package with {name} ({_short(a)})", o.urls, o.unresolved)
                )

    def unpack(self, name: str, args: list[str], stdin: Origin | None, depth: int) -> Origin | None:
        """Archives and compressed files: what they unpack (files, a directory, stdout) carries
        the archive's origin; returns the origin of stdout."""
        tar = name in ("tar", "bsdtar")
        extracting = not tar or any(
            a == "--extract" or a == "--get" or (not a.startswith("--") and "x" in a.lstrip("-")) for a in args[:2]
        )
        if not extracting:
            return None
        origin = stdin
        for a in args:
            t = self.text_taint(a, depth)
            if t is not None:
                origin = t if origin is None else origin | t
        if origin is None:
            return None
        files = [a for a in args if not a.startswith("-")]
        to_stdout = "--to-stdout" in args or any(
            ((a.startswith("-") and not a.startswith("--")) or (tar and k == 0)) and ("O" in a if tar else "c" in a)
            for k, a in enumerate(args)
        )
        if to_stdout or (not tar and name not in ("unzip", "7z") and not files):
            return origin  # a stream (`curl ... | gunzip | sh`, `tar xzO`)
        target = ""
        for k, a in enumerate(args):
            if a in ("-C", "--directory", "-d", "-o") and k + 1 < len(args):
                target = args[k + 1]
            elif a.startswith("--directory="):
                target = a.split("=", 1)[1]
            elif name == "7z" and a.startswith("-o"):
                target = a[2:]
        if target:
            self.dirs[_norm_path(target)] = origin
        if name in ("gunzip", "bunzip2", "unxz", "zstd"):
            for a in args:
                if not a.startswith("-"):
                    self.taint(re.sub(r"\.(gz|bz2|xz|zst)$", "", a), origin)
        self.unpacked = origin if self.unpacked is None else self.unpacked | origin
        return None

    def copy(self, name: str, args: list[str], depth: int) -> None:
        if name == "dd":
            src = next((a[3:] for a in args if a.startswith("if=")), "")
            dst = next((a[3:] for a in args if a.startswith("of=")), "")
            o = self.text_taint(src, depth) if src else None
            if o is not None and dst:
                self.taint(dst, o)
            return
        operands: list[str] = []
        k = 0
        while k < len(args):
            a = args[k]
            if a in ("-m", "-o", "-g", "--mode", "--owner", "--group", "-t", "--target-directory", "-S", "--suffix"):
                k += 2
                continue
            if not a.startswith("-"):
                operands.append(a)
            k += 1
        if len(operands) < 2:
            return
        origin: Origin | None = None
        for a in operands[:-1]:
            t = self.text_taint(a, depth)
            if t is not None:
                origin = t if origin is None else origin | t
        if origin is None:
            return
        dst = operands[-1]
        self.taint(dst, origin)
        for a in operands[:-1]:
            self.taint(f"{dst}/{_basename(a)}", origin)


def _short(word: str, limit: int = 60) -> str:
    word = " ".join(word.split())
    return word if len(word) <= limit else word[: limit - 3] + "..."


_INCLUDE_RE = re.compile(r"\A#include(?:-once)?[ \t]*(?:\n|\Z)", re.IGNORECASE)
_SHEBANG_PROGRAM_RE = re.compile(r"\A#!\s*\S*?(?:/env\s+)?(python\d?[\d.]*|perl|ruby|node|php|pwsh)\b")
#: cloud-config modules that hand the VM to code from a server or URL, with the URL they use.
_CONFIG_MANAGEMENT = ("chef", "puppet", "salt_minion", "ansible")


def _windows_downloads(text: str, where: str) -> Iterator[Download]:
    """PowerShell/cmd forms (``iex (iwr URL)``, ``DownloadFile`` then ``Start-Process``,
    ``certutil -urlcache``): read by pattern, not parsed."""
    low = text.lower()
    if not any(h in low for h in _WIN_HINTS) or not _WIN_FETCH_RE.search(text):
        return
    if _WIN_EXEC_RE.search(text) or re.search(r"certutil|bitsadmin", text, re.I):
        urls = tuple(dict.fromkeys(m.group(0) for m in _URL_RE.finditer(text)))
        yield Download(where, "downloads and runs code (PowerShell/cmd)", urls, not urls)


def _unsigned_installs(text: str, where: str) -> Iterator[Download]:
    """``deb [trusted=yes] URL``, ``--allow-unauthenticated``, ``--nogpgcheck``, ``gpgcheck=0``,
    ``wget --no-check-certificate``: read by pattern over the whole document (lines, config
    files, cloud-config ``apt``/``yum_repos``)."""
    for m in _UNSIGNED_RE.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start : m.start()].lstrip().startswith("#") and not text[line_start:].startswith("#cloud"):
            continue  # a comment
        lineno = text.count("\n", 0, m.start()) + 1
        url = m.group("url")
        label = f"{where} line {lineno}".strip()
        what = " ".join(m.group(0).split()[:3])
        yield Download(
            label, f"turns package signature checks off ({_short(what, 40)})", (url,) if url else (), not url, True
        )


def _include_downloads(text: str, where: str) -> Iterator[Download]:
    """``#include``/``#include-once``: every line is a URL whose content cloud-init runs as user data."""
    for lineno, line in enumerate(text.splitlines()[1:], 2):
        url = line.strip()
        if url and not url.startswith("#"):
            label = f"{where} line {lineno}".strip()
            yield Download(
                label, "#include hands cloud-init a document to fetch and run", (url,), not _URL_WORD_RE.match(url)
            )


def _argv_text(entry: Any) -> str:
    """A runcmd/bootcmd list entry as a shell command line (cloud-init runs it as an argv)."""
    return " ".join("'" + str(w).replace("'", "'\\''") + "'" for w in entry)


def _cloud_config_downloads(doc: dict[str, Any], scan: _Scan) -> None:
    found = scan.found
    for key in ("bootcmd",):
        cmds = doc.get(key)
        for i, entry in enumerate(cmds if isinstance(cmds, list) else [cmds] if cmds else []):
            _scan_entry(entry, f"{key}[{i}]", scan)
    files = doc.get("write_files")
    for i, entry in enumerate(files if isinstance(files, list) else []):
        if not isinstance(entry, dict):
            continue
        path = str(entry.get("path", ""))
        where = f"write_files[{i}] ({path})"
        source = entry.get("source")
        if source is not None:
            # cloud-init fetches `source` first and only falls back to `content` when that fails.
            uri = source.get("uri") if isinstance(source, dict) else source
            origin = Origin((str(uri),), not _URL_WORD_RE.match(str(uri or "")))
            found.append(Download(where, "is fetched by cloud-init from a URL", origin.urls, origin.unresolved))
            scan.paths[_norm_path(path)] = origin
            continue
        content = _write_file_text(entry)
        if content is None:
            found.append(
                Download(where, f"has content with encoding {entry.get('encoding')!r} that cannot be decoded", (), True)
            )
            continue
        scan.paths.pop(_norm_path(path), None)  # written literally: what runs from it is judged here
        if _mentions_fetch(content):
            scan.scan(content, where)
            found.extend(_windows_downloads(content, where))
    for key in ("runcmd",):
        cmds = doc.get(key)
        for i, entry in enumerate(cmds if isinstance(cmds, list) else [cmds] if cmds else []):
            _scan_entry(entry, f"{key}[{i}]", scan)
    if scan.paths:
        # write_files run before runcmd: a unit or cron entry they write may start what runcmd downloads.
        for i, entry in enumerate(files if isinstance(files, list) else []):
            if isinstance(entry, dict) and _AUTORUN_RE.match(_norm_path(str(entry.get("path", "")))):
                content = _write_file_text(entry)
                if content:
                    scan.autorun_refs(content, f"write_files[{i}] ({entry.get('path')})")
    for key in _CONFIG_MANAGEMENT:
        value = doc.get(key)
        if not isinstance(value, dict) or not value:
            continue
        urls: list[str] = []
        if key == "ansible":
            pull = value.get("pull")
            if not pull:
                continue
            pulls = pull if isinstance(pull, list) else [pull]
            urls = [str(p.get("url", "")) for p in pulls if isinstance(p, dict)]
        elif key == "chef":
            urls = [str(value.get("server_url", ""))]
            if str(value.get("install_type", "packages")) == "omnibus" or value.get("omnibus_url"):
                urls.append(str(value.get("omnibus_url") or "https://www.chef.io/chef/install.sh"))
        elif key == "puppet":
            server = dig_str(value, "conf", "agent", "server") or dig_str(value, "conf", "main", "server") or "puppet"
            urls = [f"puppet://{server}"]
            if str(value.get("install_type", "packages")) == "aio":
                urls.append(
                    str(
                        value.get("aio_install_url")
                        or "https://raw.githubusercontent.com/puppetlabs/install-puppet/main/install.sh"
                    )
                )
        elif key == "salt_minion":
            master = dig_str(value, "conf", "master") or "salt"
            urls = [f"salt://{master}"]
        urls = [u for u in urls if u]
        found.append(
            Download(
                key,
                f"hands the VM to configuration management ({key}) whose code the pack cannot read",
                tuple(urls),
                not urls,
            )
        )
    handled = {"bootcmd", "runcmd", "write_files", *_CONFIG_MANAGEMENT}
    budget = [MAX_CLOUD_CONFIG_VALUES]
    try:
        for key, value in doc.items():
            if str(key) in handled:
                continue
            for path, text in _strings(value, str(key), budget):
                if _mentions_fetch(text):
                    scan.scan(text, path)
    except _TooLarge:
        found.append(
            Download("cloud-config", f"has more than {MAX_CLOUD_CONFIG_VALUES} values, so it cannot be read", (), True)
        )


def dig_str(value: Any, *path: str) -> str:
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return str(value) if isinstance(value, (str, int)) and not isinstance(value, bool) else ""


def _scan_entry(entry: Any, where: str, scan: _Scan) -> None:
    if isinstance(entry, str):
        if _mentions_fetch(entry) or scan.paths or scan.vars or scan.dirs or scan.unpacked:
            scan.scan(entry, where)
    elif isinstance(entry, list):
        scan.scan(_argv_text(entry), where)


def _text_downloads(text: str, where: str = "", depth: int = 0) -> list[Download]:
    """The downloads of one document (cloud-config, #include, archive, script)."""
    body = _body(text)
    if _INCLUDE_RE.match(body):
        return list(_include_downloads(body, where))
    if is_cloud_config_archive(text) and depth < 4:
        try:
            parts = yaml.load(body, Loader=_YAML_LOADER)
        except yaml.YAMLError:
            parts = None
        if isinstance(parts, list):
            out: list[Download] = []
            for i, part in enumerate(parts):
                content = part.get("content") if isinstance(part, dict) else part
                ptype = str(part.get("type", "")).lower() if isinstance(part, dict) else ""
                if not isinstance(content, str):
                    continue
                if "include" in ptype and not _INCLUDE_RE.match(content):
                    content = "#include\n" + content
                out.extend(
                    replace(d, where=f"part {i} {d.where}".strip()) for d in _text_downloads(content, "", depth + 1)
                )
            return out
    scan = _Scan()
    doc = _parse_cloud_config(text)
    if doc is not None:
        _cloud_config_downloads(doc, scan)
    elif _mentions_fetch(text):
        m = _SHEBANG_PROGRAM_RE.match(body)
        if m and m.group(1) != "pwsh":
            program = m.group(1)
            if _NET_CODE_RE.search(body) and _EXEC_CODE_RE.search(body):
                urls = tuple(dict.fromkeys(u.group(0) for u in _URL_RE.finditer(body)))
                scan.found.append(Download(where, f"fetches and runs code in {program}", urls, not urls))
        else:
            scan.scan(text, where)
    out = list(scan.found)
    if _mentions_fetch(text):
        out.extend(_windows_downloads(text, where))
    low = text.lower()
    if any(h in low for h in _UNSIGNED_HINTS):
        out.extend(_unsigned_installs(text, where))
    seen: set[Download] = set()
    return [d for d in out if not (d in seen or seen.add(d))]


def document_downloads(text: str) -> tuple[Download, ...]:
    """Code one boot document fetches and runs from somewhere the pack cannot read (cached by
    content: the result is shared, do not modify it)."""
    if len(text) <= _CACHE_MAX_TEXT:
        return _cached_downloads(text)
    return tuple(_text_downloads(text))


@functools.lru_cache(maxsize=256)
def _cached_downloads(text: str) -> tuple[Download, ...]:
    return tuple(_text_downloads(text))


_TRUSTED_SAFE_RE = re.compile(r"%2e|%2f|/\.\.?(?:/|$)|\\", re.IGNORECASE)


def url_trusted(url: str, prefixes: Iterable[str]) -> bool:
    """Whether a URL starts with one of the trusted prefixes at a path boundary.

    Scheme and host compare case-insensitively; ``https://a.example`` does not trust
    ``https://a.example.evil.net`` or ``https://a.example@evil.net``; dot segments and encoded
    slashes are never trusted (they could climb out of the prefix).
    """
    if not _URL_WORD_RE.match(url) or _TRUSTED_SAFE_RE.search(url):
        return False
    scheme_host, _, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if "@" in host:
        return False
    norm = f"{scheme_host.lower()}://{host.lower()}{slash}{path}"
    for prefix in prefixes:
        p = str(prefix).strip()
        if not p or "://" not in p:
            continue
        ps, _, pr = p.partition("://")
        ph, pslash, ppath = pr.partition("/")
        p = f"{ps.lower()}://{ph.lower()}{pslash}{ppath}"
        if norm == p or (norm.startswith(p) and (p.endswith("/") or norm[len(p)] in "/?#")):
            return True
    return False
