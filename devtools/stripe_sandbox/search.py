"""Stripe's search query language (`email:'a@b.c' AND metadata['k']:'v'`), parsed and evaluated.

Supported: `field:value` (exact, case-insensitive for strings), `field~'sub'` (substring, at least
three characters), `>`, `<`, `>=`, `<=` on numbers, `-` to negate a clause, `null`, and clauses
joined by AND or by OR (Stripe refuses a query that mixes the two).
See https://docs.stripe.com/search#search-query-language.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from stripe_sandbox.errors import invalid_request

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<and>AND\b)|(?P<or>OR\b)
      | (?P<clause>
          (?P<neg>-)?
          (?P<field>metadata\[(?:'[^']*'|"[^"]*")\]|[A-Za-z_][A-Za-z0-9_.]*)
          (?P<op>>=|<=|:|~|>|<)
          (?P<value>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|[^\s]+)
        )
    )""",
    re.VERBOSE,
)

FieldGetter = Callable[[dict[str, Any], str], Any]


@dataclass(frozen=True)
class Clause:
    field: str
    operator: str
    value: str | float | None
    negated: bool


@dataclass(frozen=True)
class Query:
    clauses: tuple[Clause, ...]
    conjunction: str  # "AND" or "OR"

    def matches(self, obj: dict[str, Any], getter: FieldGetter) -> bool:
        results = (_evaluate(clause, getter(obj, clause.field)) for clause in self.clauses)
        return all(results) if self.conjunction == "AND" else any(results)


def parse(query: str, fields: frozenset[str]) -> Query:
    """Parse `query`; `fields` are the searchable fields of the resource (plus `metadata[...]`)."""
    position, clauses, joins = 0, [], set()
    expect_clause = True
    text = query.strip()
    if not text:
        raise _bad(query, "the query is empty")
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise _bad(query, f"unexpected input at position {position}")
        position = match.end()
        if match.group("clause"):
            if not expect_clause:
                raise _bad(query, "clauses must be joined by AND or OR")
            clauses.append(_clause(match, fields, query))
            expect_clause = False
        else:
            if expect_clause:
                raise _bad(query, "AND/OR must stand between two clauses")
            joins.add("AND" if match.group("and") else "OR")
            expect_clause = True
        while position < len(text) and text[position].isspace():
            position += 1
    if expect_clause:
        raise _bad(query, "the query ends with AND/OR")
    if len(joins) > 1:
        raise _bad(query, "AND and OR cannot be mixed in one query")
    return Query(tuple(clauses), joins.pop() if joins else "AND")


def _clause(match: re.Match[str], fields: frozenset[str], query: str) -> Clause:
    field = match.group("field")
    if field.startswith("metadata["):
        field = "metadata." + field[len("metadata[") + 1 : -2]
    elif field not in fields:
        raise invalid_request(
            f"Field '{field}' is an unsupported search field. Supported fields: "
            + ", ".join(sorted(fields)),
            param="query",
        )
    raw = match.group("value")
    value: str | float | None
    if raw[0] in "'\"":
        value = re.sub(r"\\(.)", r"\1", raw[1:-1])
    elif raw == "null":
        value = None
    else:
        try:
            value = float(raw)
        except ValueError:
            raise _bad(query, f"the value {raw} must be quoted") from None
    operator = match.group("op")
    if operator == "~" and (not isinstance(value, str) or len(value) < 3):
        raise _bad(query, "substring (~) queries need a quoted value of at least 3 characters")
    return Clause(field, operator, value, bool(match.group("neg")))


def _evaluate(clause: Clause, actual: Any) -> bool:
    result = _compare(clause, actual)
    return not result if clause.negated else result


def _compare(clause: Clause, actual: Any) -> bool:
    expected = clause.value
    if expected is None:
        return actual is None or actual == ""
    if actual is None:
        return False
    if clause.operator == "~":
        return str(expected).lower() in str(actual).lower()
    if isinstance(expected, float):
        try:
            number = float(actual)
        except (TypeError, ValueError):
            return False
        return {
            ":": number == expected,
            ">": number > expected,
            "<": number < expected,
            ">=": number >= expected,
            "<=": number <= expected,
        }[clause.operator]
    if clause.operator != ":":
        return False
    return str(actual).lower() == expected.lower()


def default_getter(obj: dict[str, Any], field: str) -> Any:
    if field.startswith("metadata."):
        return (obj.get("metadata") or {}).get(field[len("metadata.") :])
    value: Any = obj
    for part in field.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _bad(query: str, why: str) -> Exception:
    return invalid_request(f"Invalid query: {why}. Query: {query}", param="query")
