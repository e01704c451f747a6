"""Usage over time as an inline SVG bar chart: per day, the calls the memory layers made
stacked on the agent's own calls. Drawn on the server, so the page needs no chart library."""

from __future__ import annotations

from html import escape

from web.queries import UsageBucket

WIDTH, HEIGHT, PAD = 720, 200, 32
MEMORY, AGENT = "#4c78a8", "#f58518"


def usage_chart(buckets: list[UsageBucket]) -> str:
    if not buckets:
        return '<p class="empty">No model or embedding calls in the last 30 days.</p>'
    peak = max(b.memory_calls + b.agent_calls for b in buckets) or 1
    slot = (WIDTH - 2 * PAD) / len(buckets)
    bar = max(2.0, slot * 0.7)
    scale = (HEIGHT - 2 * PAD) / peak
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        'aria-label="calls per day: memory layers and the agent\'s own calls">',
        f'<line x1="{PAD}" y1="{HEIGHT - PAD}" x2="{WIDTH - PAD}" y2="{HEIGHT - PAD}" stroke="#888"/>',
        f'<text x="{PAD}" y="{PAD - 12}" class="axis">{peak} calls</text>',
    ]
    for i, b in enumerate(buckets):
        x = PAD + i * slot + (slot - bar) / 2
        agent_h, memory_h = b.agent_calls * scale, b.memory_calls * scale
        day = b.day.strftime("%Y-%m-%d")
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - agent_h:.1f}" width="{bar:.1f}" height="{agent_h:.1f}" fill="{AGENT}">'
            f"<title>{day}: {b.agent_calls} agent calls, {b.agent_tokens} tokens</title></rect>"
        )
        parts.append(
            f'<rect x="{x:.1f}" y="{HEIGHT - PAD - agent_h - memory_h:.1f}" width="{bar:.1f}" height="{memory_h:.1f}" '
            f'fill="{MEMORY}"><title>{day}: {b.memory_calls} memory-layer calls, {b.memory_tokens} tokens</title></rect>'
        )
        if len(buckets) <= 10 or i % max(1, len(buckets) // 6) == 0:
            parts.append(f'<text x="{x:.1f}" y="{HEIGHT - PAD + 14}" class="axis">{escape(b.day.strftime("%m-%d"))}</text>')
    parts.append(
        f'<rect x="{WIDTH - 250}" y="6" width="10" height="10" fill="{MEMORY}"/>'
        f'<text x="{WIDTH - 236}" y="15" class="axis">memory layers</text>'
        f'<rect x="{WIDTH - 140}" y="6" width="10" height="10" fill="{AGENT}"/>'
        f'<text x="{WIDTH - 126}" y="15" class="axis">agent\'s own calls</text>'
    )
    parts.append("</svg>")
    return "".join(parts)
