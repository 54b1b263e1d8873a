"""``papercli watch``: saved interests for the arXiv inbox."""

from typing import Annotated

import typer

from papercli.cli.common import CountFormat, connect, echo, emit_rows, fail
from papercli.models import Watch
from papercli.store import watches

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None)

Categories = Annotated[
    list[str] | None,
    typer.Option(
        "--category", "-c", metavar="CAT", help="An arXiv category (cs.CL, stat.ML); repeat."
    ),
]
Keywords = Annotated[
    list[str] | None,
    typer.Option(
        "--keyword",
        "-k",
        metavar="WORDS",
        help='Words or a "quoted phrase" the title or abstract must have (any one); repeat.',
    ),
]
Authors = Annotated[
    list[str] | None,
    typer.Option("--author", "-a", metavar="NAME", help="An author's family name; repeat."),
]
Excludes = Annotated[
    list[str] | None,
    typer.Option("--exclude", "-x", metavar="WORDS", help="Words that rule an item out; repeat."),
]


@app.callback()
def watch_callback() -> None:
    """Save what to hear about from arXiv's daily listings.

    An announcement matches a watch when it is in one of the watch's categories, has one of
    its keywords or authors (when it names any), and none of its excluded words.

    \b
    Examples:
      papercli watch add peft --category cs.CL --category cs.LG -k low-rank
      papercli watch list
    """


@app.command("add")
def add_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="A name for the watch.")],
    category: Categories = None,
    keyword: Keywords = None,
    author: Authors = None,
    exclude: Excludes = None,
) -> None:
    """Save a watch. It names arXiv categories, and optionally keywords, authors and
    exclusions.

    \b
    Examples:
      papercli watch add peft --category cs.CL --category cs.LG -k low-rank
      papercli watch add rlhf -c cs.LG -k preference -a Rafailov -x robotics
    """
    if not category:
        fail("a watch needs at least one --category (e.g. cs.CL)", 2)
    watch = Watch(
        _name(name),
        _categories(category),
        _words(keyword),
        _words(author, authors=True),
        _words(exclude),
    )
    saved = watches.add_watch(connect(ctx), watch)
    echo(f"watching {', '.join(saved.categories)} as {saved.name}")


@app.command("edit")
def edit_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The watch to change.")],
    category: Categories = None,
    keyword: Keywords = None,
    author: Authors = None,
    exclude: Excludes = None,
) -> None:
    """Change a watch. Each option given replaces that list; the others stay.

    \b
    Example:
      papercli watch edit peft --keyword "low-rank" --keyword adapter
    """
    if not any((category, keyword, author, exclude)):
        fail("say what to change: --category, --keyword, --author or --exclude", 2)
    edited, changed = watches.edit_watch(
        connect(ctx),
        name,
        categories=_categories(category) if category else None,
        keywords=_words(keyword) if keyword else None,
        authors=_words(author, authors=True) if author else None,
        excludes=_words(exclude) if exclude else None,
    )
    echo(
        f"changed the watch {edited.name}" if changed else f"the watch {edited.name} is so already"
    )


@app.command("remove")
def remove_command(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="The watch to remove.")],
) -> None:
    """Remove a watch (`undo` brings it back).

    \b
    Example:
      papercli watch remove peft
    """
    gone = watches.remove_watch(connect(ctx), name)
    echo(f"removed the watch {gone.name}")


@app.command("list")
def list_command(
    ctx: typer.Context,
    output: Annotated[
        CountFormat, typer.Option("--format", "-f", help="table, json or csv.")
    ] = CountFormat.table,
) -> None:
    """List your watches.

    \b
    Examples:
      papercli watch list
      papercli watch list --format json
    """
    found = watches.all_watches(connect(ctx))
    emit_rows(
        output,
        ["name", "categories", "keywords", "authors", "excludes"],
        [
            [
                w.name,
                ", ".join(w.categories),
                ", ".join(w.keywords),
                ", ".join(w.authors),
                ", ".join(w.excludes),
            ]
            for w in found
        ],
        [
            {
                "name": w.name,
                "categories": w.categories,
                "keywords": w.keywords,
                "authors": w.authors,
                "excludes": w.excludes,
                "created_at": w.created_at,
            }
            for w in found
        ],
        empty="no watches yet; add one with: papercli watch add NAME --category cs.CL",
    )


def _name(name: str) -> str:
    clean = name.strip()
    if not clean or len(clean) > 60 or not clean.isprintable():
        fail(f"{name!r} cannot name a watch: use up to 60 printable characters", 2)
    return clean


def _categories(given: list[str]) -> list[str]:
    from papercli.arxiv_taxonomy import check_category

    return list(dict.fromkeys(check_category(c) for c in given))


def _words(given: list[str] | None, *, authors: bool = False) -> list[str]:
    from papercli.watching import has_words, names_someone

    words = [" ".join(w.split()) for w in given or []]
    if any(not w or len(w) > 200 or not w.isprintable() for w in words):
        fail("each keyword, author or exclusion must be up to 200 printable characters", 2)
    for word in words:
        if authors and not names_someone(word):
            fail(f"{word!r} has no word to match: give a family name in Latin letters", 2)
        if not authors and not has_words(word):
            fail(f"{word!r} has no word to match: give letters or digits", 2)
    return list(dict.fromkeys(words))
