"""What a long-running process (``labpress serve``) keeps between its builds of one site, so that the
build after an edit does the work the edit calls for and little else.

The pipeline runs every stage at every build; the memory lets a stage skip work whose inputs it
knows to be unchanged:

* What the build's own stages read (not a post: the configuration, the theme, KaTeX's and
  Pyodide's files, the site's static files, the tools' metadata, the templates) is recorded as in
  a stamp (site/fresh.py) and checked at the start of the next build. When none of it changed,
  the stages that depend on nothing else (the configuration, the list of post files, the theme's
  static files, the site's own, the widget assets for the same widgets) give the result they gave
  last time, and their files are kept as published; otherwise every stage runs again.
* A post file is read again only when its stat moved (or it is racy, see site/fresh.py); a post
  whose key and inputs (what its code and blocks read, its widget modules) are unchanged is the
  same object as last time, body and HTML in memory, so neither the cache nor the renderer is asked.
* Per post, the provenance record, the search copy's digest and each page's digest are kept by
  the objects they were made from; the feed and the sitemap by what they show.
* The output folder is known as this process published it: the manifest stays in memory (a file's
  stat is not checked again) and a shadow tree beside it (site/output.py ``Shadow``) takes only
  the files that differ, then is exchanged with it in one step.
* The cache files, the manifest, the stamp and the search index are brought up to date after the
  pages are published (``pending``), so the browser reloads without waiting for them; the index
  is made by Pagefind in a thread and published when it is done. Until then the stamp is not
  written, so a ``labpress build`` never takes the search index for complete while it is not.

Anything the memory cannot vouch for (another build published meanwhile, an input that changed
while it was read) is forgotten and made again from the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Stage:
    """What one stage gave and wrote into the output tree, for a build whose stage inputs are unchanged."""

    arguments: object
    result: object
    writes: list  # [(relative, bytes, source, extra)]


@dataclass
class Pending:
    """The work a build left for after it published its pages (see ``BuildMemory.finish``)."""

    saves: list = field(default_factory=list)  # callables, in order
    search: object = None  # a search.index.DeferredIndex to make and publish
    stamp: object = None  # a callable writing the stamp, once the index is complete


class BuildMemory:
    def __init__(self) -> None:
        self.arguments = None  # the arguments key (site/fresh.py) of the builds remembered
        self.global_entries: list | None = None  # inputs the build's own stages read, as in a stamp
        self.global_unchanged = False  # this build's check of them
        self.config = None
        self.config_digest = None
        self.katex = None  # the KaTeX renderer, with every formula it met
        self.theme_digest = None
        self.sources = None  # discover_posts's answer, and its errors
        self.discover_errors: list = []
        self.files: dict = {}  # source -> (input entry of the post file, its sha256, its key)
        self.posts: dict = {}  # key -> (Post, [input entries of its body's inputs and widget modules])
        self.stages: dict[str, Stage] = {}
        self.provenance: dict = {}  # slug -> (what it was made from, Provenance)
        self.records = None  # (the versions and git state they show, every record by slug)
        self.records_partial = False  # the last write_provenance made only the changed posts' records
        self.uncommitted: set | None = None  # slugs of the posts whose own files are not committed
        self.last = None  # True once a build with this memory was published
        self.seeded = False  # this build's tree started as the published one
        self.posts_list = None  # (the site's posts, the post of each file, whether each is a draft)
        self.widget_uses = None  # (the Site, each post's widgets, by post)
        self.result_sources = None  # each post file as shown, in order
        self.css_url = None  # the site stylesheet the published pages link
        self.next_css_url = None  # the one this build's pages link
        self.changed_objects: list = []  # (post, body, key, load_html) this build changed in place
        self.made_from: dict = {}  # search copies: url -> ((post, body, references), digest)
        self.pages: dict = {}  # render_pages' memo (site/pages.py)
        self.rules = ({}, {}, {})  # the pages' style rules: out -> rules, name -> pages using it, name -> body
        self.stylesheet = None  # (its rules' names, the bytes, the path)
        self.assembled = None  # (the posts and their front matter, the Site, its errors)
        self.labels = None  # (what they were made of, site_labels)
        self.dates = None  # (the Site, page_dates)
        self.feed = None  # (what it shows, atom.xml)
        self.sitemap = None
        self.manifest = None  # the output folder as this process published it (output.Manifest)
        self.out_inode = None  # the output folder's inode then: another build's publishing moves it
        self.shadow = None  # output.Shadow
        self.tree = None  # the OutputTree last published
        self.pending: Pending | None = None
        self.on_search_done = None  # called from the thread when Pagefind has finished (serve wakes up)
        self.builds_since_collect = 16  # the first finish collects

    def reset(self, arguments) -> None:
        """Forget every build (they were of other arguments), but whom to tell when an index is done."""
        if self.shadow is not None:
            self.shadow.forget()
        on_search_done = self.on_search_done
        self.__init__()
        self.arguments, self.on_search_done = arguments, on_search_done

    def forget_output(self) -> None:
        """The output folder is no longer as this process left it: know it again from the disk."""
        self.manifest = None
        self.out_inode = None
        self.tree = None
        if self.shadow is not None:
            self.shadow.forget()

    def forget_stages(self) -> None:
        self.global_entries = None
        self.stages.clear()
