"""The synthetic crawl behind ``thresher demo``: pages with known answers (see :mod:`.synth`)."""

from thresher.demo.synth import KINDS, CrawlManifest, PageInfo, generate_crawl

__all__ = ["KINDS", "CrawlManifest", "PageInfo", "generate_crawl"]
