// Opens pages of the built book in headless Chromium and reports what a reader would see.
//
// Used by tests/book/test_book_browser.py, which serves book/_build/html on 127.0.0.1, decides
// which pages must show figures or audio, and turns this report into test failures.
//
//   node tests/book/browser/check_pages.mjs CONFIG.json
//
// CONFIG: {"base": "http://127.0.0.1:PORT/", "start": "index.html", "pages": ["index.html", ...],
//          "chromium": "/usr/bin/chromium", "screenshots": "DIR", "report": "FILE.json"}
// Each page's findings include `wide` (code and output blocks that scroll sideways or run past
// the column at this 1280 px window), `outputTexts` (each output's text, stderr marked) and `prose`
// (the text outside cells): tests/book/page_rules.py applies the page rules to these texts.
// The report maps each visited page to its findings, and lists every page reached by
// following links from `start` (so the test can check that navigation reaches each chapter).

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const base = new URL(config.base);

// Flags from ../shared/FACTS.md: without the background-networking ones Chromium itself
// tries to reach Google's hosts, which would count as requests leaving the machine.
const browser = await chromium.launch({
  executablePath: config.chromium,
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--no-first-run',
         // Let <audio> load without a user gesture; nothing is played.
         '--autoplay-policy=no-user-gesture-required'],
});

function pageKey(url) {
  // "http://127.0.0.1:PORT/chapters/ch01.html#x" -> "chapters/ch01.html"
  const u = new URL(url);
  let path = decodeURIComponent(u.pathname).replace(/^\//, '');
  if (path === '' || path.endsWith('/')) path += 'index.html';
  return path;
}

async function inspect(page) {
  return page.evaluate(async () => {
    const article = document.querySelector('article.bd-article') || document.body;

    // Math: wait for MathJax 2 to finish, then look for anything left untypeset.
    if (window.MathJax && window.MathJax.Hub) {
      await new Promise((resolve) => {
        window.MathJax.Hub.Queue(resolve);
        setTimeout(resolve, 15000);
      });
    }
    // Sphinx marks each formula 'math notranslate'; MathJax's own output also uses class 'math'.
    const mathNodes = [...article.querySelectorAll('.math.notranslate')];
    const rawMath = mathNodes
      .filter((el) => !el.querySelector('.MathJax, .MathJax_Display, .MathJax_SVG, mjx-container'))
      .map((el) => el.textContent.trim().slice(0, 80));
    const mathErrors = [...article.querySelectorAll('.MathJax_Error, .merror, merror')]
      .map((el) => el.textContent.trim().slice(0, 80));
    // Typeset math that still shows a backslash: a command MathJax printed as text, such as
    // \_ inside \text{...}. The <script type="math/tex"> beside it holds the source.
    for (const el of mathNodes) {
      const shown = [...el.querySelectorAll('.MathJax, .MathJax_Display')].map((m) => m.textContent).join('');
      if (shown.includes('\\')) {
        const source = (el.querySelector('script[type^="math/tex"]') || el).textContent;
        mathErrors.push(`shows a backslash: ${source.trim().slice(0, 80)}`);
      }
    }

    // Figures: images in the article that actually decoded.
    const imgs = [...article.querySelectorAll('img')];
    await Promise.all(imgs.map((img) => (img.complete ? null
      : new Promise((r) => { img.onload = r; img.onerror = r; setTimeout(r, 5000); }))));
    const figures = imgs.filter((img) => img.naturalWidth > 0 && img.naturalHeight > 0).length;
    const brokenImages = imgs.filter((img) => !(img.naturalWidth > 0)).map((img) => img.src.slice(0, 100));

    // Audio: every player must load and report a positive, finite duration.
    const audios = [...document.querySelectorAll('audio')];
    const audio = await Promise.all(audios.map((el) => new Promise((resolve) => {
      const done = () => resolve({
        duration: Number.isFinite(el.duration) ? el.duration : null,
        error: el.error ? `MediaError code ${el.error.code}` : null,
        src: (el.currentSrc || el.src || (el.querySelector('source') || {}).src || '').slice(0, 40),
      });
      if (el.readyState >= 1 || el.error) return done();
      el.addEventListener('loadedmetadata', done, { once: true });
      el.addEventListener('error', done, { once: true });
      el.preload = 'metadata';
      el.load();
      setTimeout(done, 8000);
    })));

    // Python tracebacks rendered into the page (an error output, or one printed as text).
    const outputs = [...article.querySelectorAll('.cell_output, .output, pre')];
    const tracebacks = new Set();
    for (const el of outputs) {
      const text = el.textContent;
      if (el.matches('.traceback, .error') || /Traceback \(most recent call last\)/.test(text)
          || /Cell In\[\d+\], line \d+/.test(text)) {
        tracebacks.add(text.trim().slice(0, 200));
      }
    }

    // Page rules (issue 16 point 6, "No plumbing on the page"; tests/book/page_rules.py). Folded
    // blocks (hide-input <details>, toggled admonitions) are opened while measuring, so a wide
    // line behind a toggle counts too, and folded back before the screenshot.
    const cells = [...article.querySelectorAll('div.cell')];
    const headingBefore = (el) => {
      let heading = '';
      for (const h of article.querySelectorAll('h1, h2, h3, h4')) {
        // eslint-disable-next-line no-bitwise
        if (h.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING) heading = h.textContent;
        else break;
      }
      return heading.replace(/#$/, '').trim().slice(0, 60);
    };
    const describe = (el) => {
      const cell = el.closest('div.cell');
      const section = headingBefore(el);
      if (!cell) return `${el.tagName.toLowerCase()} block in section "${section}"`;
      const input = cell.querySelector('.cell_input pre');
      const first = input ? (input.textContent.split('\n').find((l) => l.trim()) || '').trim() : '';
      const part = el.closest('.cell_output') ? 'output' : 'code';
      const code = first ? ` (\`${first.length > 50 ? `${first.slice(0, 47)}...` : first}\`)` : ' (input hidden)';
      return `cell ${cells.indexOf(cell) + 1} of the page${code}, its ${part}, in section "${section}"`;
    };
    const opened = [...article.querySelectorAll('details:not([open])')];
    opened.forEach((d) => { d.open = true; });
    const unhidden = [...article.querySelectorAll('.toggle-hidden')];
    unhidden.forEach((el) => el.classList.remove('toggle-hidden'));
    const articleRight = article.getBoundingClientRect().right;
    const wide = [];
    const wideSeen = new Set();
    const blocks = article.querySelectorAll(
      'div.highlight pre, .cell_output pre, .cell_output .output, .cell_output table, .cell_output img');
    for (const el of blocks) {
      if (wideSeen.has(el.closest('.cell_output > *') || el)) continue;
      // An image is no scroll container (its scrollWidth is its natural width): only its edge counts.
      const overflow = el.tagName === 'IMG' ? 0 : el.scrollWidth - el.clientWidth;
      const beyond = el.getBoundingClientRect().right - articleRight;
      if (el.clientWidth > 0 && (overflow > 1 || beyond > 1)) {
        wideSeen.add(el.closest('.cell_output > *') || el);
        const longest = (el.tagName === 'PRE' ? el.textContent.split('\n') : [''])
          .reduce((a, b) => (b.length > a.length ? b : a), '');
        wide.push({ where: describe(el), element: `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`,
                    scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
                    pastColumn: Math.round(Math.max(beyond, 0)), longestLine: longest.slice(0, 140),
                    longestChars: longest.length });
      }
    }
    // Output texts (each output of each cell), and the prose, for tests/book/page_rules.py to read.
    const outputTexts = [...article.querySelectorAll('.cell_output > *')].map((el) => ({
      where: describe(el),
      stderr: el.matches('.stderr, .output_stderr') || !!el.querySelector('.stderr, .output_stderr'),
      text: el.textContent.slice(0, 20000),
    }));
    const prose = [...article.querySelectorAll('p, li, dd, td, th, .admonition')]
      .filter((el) => !el.closest('div.cell'))
      .map((el) => el.textContent).join('\n').slice(0, 200000);
    unhidden.forEach((el) => el.classList.add('toggle-hidden'));
    opened.forEach((d) => { d.open = false; });

    // Widget views that no manager will draw (offline_book replaces them with a note).
    const emptyWidgets = document.querySelectorAll(
      'script[type="application/vnd.jupyter.widget-view+json"]').length;

    const links = [...document.querySelectorAll('a[href]')].map((a) => a.href);
    const navLinks = [...document.querySelectorAll('nav.bd-docs-nav a[href], .bd-sidenav a[href]')]
      .map((a) => a.href);
    return {
      title: document.title,
      h1: (document.querySelector('h1') || {}).textContent || '',
      figures, brokenImages, audio, rawMath, mathErrors, mathCount: mathNodes.length,
      tracebacks: [...tracebacks], emptyWidgets, links, navLinks, wide, outputTexts, prose,
    };
  });
}

const report = { pages: {}, reached: [], elapsed_s: 0 };
const t0 = Date.now();
mkdirSync(config.screenshots, { recursive: true });

// Follow links breadth first from the start page; `reached` records what navigation finds.
// Listed pages that no link led to are visited afterwards (checked, but not `reached`).
const queue = [config.start];
const reached = new Set(queue);
const seen = new Set(queue);
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });

// One tab for all pages (a new tab per page costs about a second on a busy machine); its
// listeners write into the findings of the page being visited.
const page = await context.newPage();
let found = null;
page.on('request', (req) => {
  const u = new URL(req.url());
  if (['data:', 'blob:', 'about:'].includes(u.protocol)) return;
  if (u.origin !== base.origin) found.requestsOffMachine.push(req.url());
});
page.on('requestfailed', (req) => {
  found.failedRequests.push(`${req.url()} (${(req.failure() || {}).errorText})`);
});
page.on('response', (res) => {
  if (res.status() >= 400) found.failedRequests.push(`${res.url()} (HTTP ${res.status()})`);
});
page.on('console', (msg) => {
  if (msg.type() === 'error') found.consoleErrors.push(msg.text());
});
page.on('pageerror', (err) => found.pageErrors.push(String(err)));

while (queue.length) {
  const key = queue.shift();
  const pageStart = Date.now();
  found = { requestsOffMachine: [], failedRequests: [], consoleErrors: [], pageErrors: [] };
  const url = new URL(key, base).href;
  // Jupyter Book's index.html only redirects (meta refresh) to the root page. Read that from
  // the served HTML before the browser opens it: once open, the browser is already leaving.
  const fetched = await fetch(url).then(async (r) => ({ status: r.status, html: r.ok ? await r.text() : '' }))
    .catch((err) => ({ status: null, html: '', error: String(err) }));
  const refresh = fetched.html.match(/<meta\s+http-equiv="refresh"\s+content="\s*\d+\s*;\s*url=([^"]+)"/i);
  let response = null;  // stays null for a redirect: there is nothing to look at
  if (refresh) {
    found.status = fetched.status;
    const target = pageKey(new URL(refresh[1], url).href);
    found.redirect = target;
    reached.add(target);
    if (!seen.has(target)) { seen.add(target); queue.push(target); }
  } else {
    try {
      response = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    } catch (err) {
      found.pageErrors.push(`navigation failed: ${err}`);
    }
    found.status = response ? response.status() : null;
  }
  if (response && response.ok()) {
    try {
      Object.assign(found, await inspect(page));
    } catch (err) {
      found.pageErrors.push(`could not inspect the page: ${err}`);
      found.links = [];
      found.navLinks = [];
    }
    const shot = join(config.screenshots, key.replace(/\.html$/, '').replace(/[\/]/g, '__') + '.png');
    await page.screenshot({ path: shot, fullPage: true });
    found.screenshot = shot;
    for (const href of found.links) {
      const u = new URL(href);
      if (u.origin !== base.origin || !u.pathname.endsWith('.html')) continue;
      const next = pageKey(href);
      if (next.startsWith('_')) continue;  // _sources/, _static/: files, not pages
      reached.add(next);
      if (!seen.has(next)) { seen.add(next); queue.push(next); }
    }
    found.navLinks = [...new Set(found.navLinks.map(pageKey))];
    delete found.links;
  }
  found.elapsed_s = (Date.now() - pageStart) / 1000;
  report.pages[key] = found;
  if (!queue.length) {
    for (const listed of config.pages) {
      if (!seen.has(listed)) { seen.add(listed); queue.push(listed); }
    }
  }
}

report.reached = [...reached];
report.elapsed_s = (Date.now() - t0) / 1000;
await browser.close();
writeFileSync(config.report, JSON.stringify(report, null, 1));
console.log(`checked ${Object.keys(report.pages).length} pages in ${report.elapsed_s.toFixed(1)} s`);
