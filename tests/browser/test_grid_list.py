"""The grid worker's shop list on a 360 px phone, as it lays out."""

from __future__ import annotations

from typing import Any

from tests.browser.field import sign_in_grid
from tests.gateway import Gateway

# For the second line of every card (`code · address · last patrol`): whether it wraps, and the shops where a "·"
# separator ends a line (its next character starts the line below).
LAYOUT = """
() => {
  const top = ([node, i]) => {
    const range = document.createRange();
    range.setStart(node, i);
    range.setEnd(node, i + 1);
    return Math.round(range.getBoundingClientRect().top);
  };
  const out = { wrapped: 0, dangling: [] };
  for (const line of document.querySelectorAll('a.g-shop .muted')) {
    const chars = [];
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (let i = 0; i < node.data.length; i++) if (node.data[i].trim()) chars.push([node, i]);
    }
    const tops = chars.map(top);
    if (new Set(tops).size > 1) out.wrapped += 1;
    chars.forEach(([node, i], k) => {
      if (node.data[i] === '·' && k + 1 < chars.length && tops[k + 1] > tops[k] + 2) {
        out.dangling.push(line.closest('a.g-shop').dataset.shop);
      }
    });
  }
  return out;
}
"""


def test_no_card_leaves_a_separator_dangling_at_the_end_of_a_line(
    gateway: Gateway, context: Any, logins: dict[str, Any]
) -> None:
    """When a card's line must wrap on a narrow phone, it breaks before a "·", never right after one."""
    page = context.new_page()
    page.set_default_timeout(60_000)
    sign_in_grid(page, gateway, logins["grid_workers"][0])
    page.wait_for_selector("a.g-shop")
    layout = page.evaluate(LAYOUT)
    assert layout["wrapped"] > 0, "no card wraps at 360 px: the demo's addresses no longer test this"
    assert layout["dangling"] == []
