"""How the app looks and the one behaviour HTML cannot give: CSS for the classes ui.render
writes, and the script that opens a source card when its [n] marker is clicked."""

CSS = """
.answer p, .draft p { margin: 0 0 .6em 0; }
a.cite { font-weight: 600; text-decoration: none; padding: 0 1px; }
a.cite:hover { text-decoration: underline; }
.cards { margin-top: .5em; }
details.card { border: 1px solid var(--border-color-primary); border-radius: 6px;
  padding: .35em .6em; margin: .35em 0; background: var(--background-fill-secondary); }
details.card > summary { cursor: pointer; }
details.card.flash { outline: 2px solid var(--color-accent); }
details.card .num { font-weight: 600; }
details.card .title, .record .title { font-weight: 600; }
.meta, .ids, .docid, .authors { font-size: .85em; color: var(--body-text-color-subdued); }
blockquote.passage { margin: .4em 0; padding: 0 0 0 .6em;
  border-left: 3px solid var(--border-color-primary); white-space: pre-line; }
details.uncited > summary, details.removed-sentences > summary { cursor: pointer;
  font-size: .85em; color: var(--body-text-color-subdued); }
details.removed-sentences li { color: var(--body-text-color-subdued);
  text-decoration: line-through; }
details.removed-sentences .cited { text-decoration: none; font-size: .85em; }
blockquote.passage mark { background: #fff3a3; color: inherit; padding: 0 1px; }
.badge { font-size: .75em; border-radius: 4px; padding: 1px 6px; margin-left: .3em; }
.badge.ok { background: #d9f2dd; color: #11652a; }
.badge.bad { background: #fbdcdc; color: #8a1c1c; }
.timings, .standalone { font-size: .75em; color: var(--body-text-color-subdued); margin-top: .4em; }
.warnings, .unsupported-note { font-size: .85em; color: #8a5a00; }
span.unsupported { text-decoration: underline dotted #b07000; text-underline-offset: 3px; }
.refusal-text { color: #8a1c1c; }
.draft .cursor { opacity: .6; }
.error { color: #8a1c1c; }
table.library { width: 100%; font-size: .85em; border-collapse: collapse; }
table.library td, table.library th { border-bottom: 1px solid var(--border-color-primary);
  padding: 3px 6px; text-align: left; vertical-align: top; }
.record { margin: .5em 0; }
"""

# Clicking a [n] marker opens its card (a <details>) and brings it into view.
HEAD = """<script>
document.addEventListener("click", (event) => {
  const link = event.target.closest ? event.target.closest("a.cite") : null;
  if (!link) return;
  const card = document.getElementById(link.getAttribute("href").slice(1));
  if (!card) return;
  event.preventDefault();
  card.open = true;
  card.classList.add("flash");
  setTimeout(() => card.classList.remove("flash"), 1500);
  card.scrollIntoView({behavior: "smooth", block: "nearest"});
});
</script>"""
