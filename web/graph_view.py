"""The knowledge graph as an SVG picture, laid out on the server: entities as labelled dots,
facts as lines between them (invalidated ones dashed and grey). A small force-directed layout
(Fruchterman-Reingold) from positions seeded by name, so a page looks the same on each load."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime
from html import escape

from memory.graph.models import GraphFact

WIDTH, HEIGHT, MARGIN = 900, 560, 60
ITERATIONS = 80


def _seed(name: str) -> tuple[float, float]:
    digest = hashlib.sha256(name.encode()).digest()
    return digest[0] / 255 * WIDTH, digest[1] / 255 * HEIGHT


def layout(names: list[str], edges: list[tuple[str, str]]) -> dict[str, tuple[float, float]]:
    pos = {n: _seed(n) for n in names}
    if len(names) < 2:
        return {n: (WIDTH / 2, HEIGHT / 2) for n in names}
    k = math.sqrt(WIDTH * HEIGHT / len(names)) * 0.6
    temperature = WIDTH / 8
    for _ in range(ITERATIONS):
        shift = {n: [0.0, 0.0] for n in names}
        for i, a in enumerate(names):
            ax, ay = pos[a]
            for b in names[i + 1 :]:
                dx, dy = ax - pos[b][0], ay - pos[b][1]
                dist = math.hypot(dx, dy) or 0.01
                force = k * k / dist
                shift[a][0] += dx / dist * force
                shift[a][1] += dy / dist * force
                shift[b][0] -= dx / dist * force
                shift[b][1] -= dy / dist * force
        for a, b in edges:
            dx, dy = pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]
            dist = math.hypot(dx, dy) or 0.01
            force = dist * dist / k
            shift[a][0] -= dx / dist * force
            shift[a][1] -= dy / dist * force
            shift[b][0] += dx / dist * force
            shift[b][1] += dy / dist * force
        for n in names:
            dx, dy = shift[n]
            length = math.hypot(dx, dy) or 0.01
            step = min(length, temperature)
            x = min(WIDTH - MARGIN, max(MARGIN, pos[n][0] + dx / length * step))
            y = min(HEIGHT - MARGIN, max(MARGIN, pos[n][1] + dy / length * step))
            pos[n] = (x, y)
        temperature *= 0.95
    return pos


def graph_svg(facts: list[GraphFact], now: datetime) -> str:
    if not facts:
        return '<p class="empty">No facts in this view.</p>'
    names = sorted({f.source_entity for f in facts} | {f.target_entity for f in facts})
    edges = [(f.source_entity, f.target_entity) for f in facts]
    pos = layout(names, edges)
    parts = [
        f'<svg class="graph" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        'aria-label="entities and the facts between them">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="18" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
        '<path d="M0,0 L10,5 L0,10 z" fill="#666"/></marker></defs>',
    ]
    for fact in facts:
        (x1, y1), (x2, y2) = pos[fact.source_entity], pos[fact.target_entity]
        current = fact.is_current(now)
        style = 'stroke="#2a6f2a" stroke-width="2"' if current else 'stroke="#aaa" stroke-dasharray="5,4"'
        state = "current" if current else "invalid"
        parts.append(
            f'<line class="fact {state}" x1="{x1:.0f}" y1="{y1:.0f}" x2="{x2:.0f}" y2="{y2:.0f}" {style} '
            f'marker-end="url(#arrow)"><title>{escape(fact.fact)} ({state})</title></line>'
        )
        if current:
            parts.append(
                f'<text class="relation" x="{(x1 + x2) / 2:.0f}" y="{(y1 + y2) / 2 - 4:.0f}">{escape(fact.relation)}</text>'
            )
    for name in names:
        x, y = pos[name]
        parts.append(
            f'<g class="entity"><circle cx="{x:.0f}" cy="{y:.0f}" r="9" fill="#4c78a8"/>'
            f'<text x="{x + 12:.0f}" y="{y + 4:.0f}">{escape(name)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
