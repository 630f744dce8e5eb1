/* Compare any two published versions in the browser. It loads /versions/<v>/policy.json and runs the same
   section-level diff as scripts/policy_site/diff/ (sections.py and redline.py), step for step: the words of
   every text come ready-made in policy.json ("text": runs of words with their formatting), so nothing here
   parses Markdown. tests/fixtures/diff/*.json prove the two implementations give the same result. A table
   cell of paragraphs and lists is one run of words with a marker word starting each item and each further
   paragraph (sections.cell_words); the renderer rebuilds the cell's lists from them (redline_render.cell_html).
   No dependencies. Text from the JSON is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var LIKENESS = 0.5, MAX_CELLS = 250000, SEP = " \u203a ";
  var CELL_MARKERS = {"li:ul": "\u2022", "li:ol": "\u2022", "p": "\u00b6"};  // redline.CELL_MARKERS

  // ---- words: [text, marks, glue] ----
  function wordsOf(text, key) {  // inline.words_from_runs(runs of one text)
    var out = [], runs = Object.prototype.hasOwnProperty.call(text, key) ? text[key] : [];
    runs.forEach(function (run) {
      run[0].split(" ").forEach(function (w, i) { out.push([w, run[1], i === 0 ? run[2] : false]); });
    });
    return out;
  }
  function wordKey(w) { return w[0] + "\u0000" + w[1].join("\u0001") + "\u0000" + (w[2] ? "1" : "0"); }
  function isRow(kind) { var leaf = kind.split("+").pop(); return leaf === "th" || leaf === "tr"; }  // redline.is_row
  function unitKey(u) {
    return u[0] + "\u0002" + (isRow(u[0]) ? u[1].map(function (c) { return c.map(wordKey).join("\u0003"); }).join("\u0004")
                                          : u[1].map(wordKey).join("\u0003"));
  }
  function markerKind(marks) {  // redline.marker_kind
    return marks.length === 1 && Object.prototype.hasOwnProperty.call(CELL_MARKERS, marks[0]) ? marks[0] : null;
  }
  function unitWords(u) { return isRow(u[0]) ? [].concat.apply([], u[1]) : u[1]; }  // redline.unit_words

  // ---- alignment: redline.opcodes ----
  function lcs(a, b, oa, ob) {
    var n = a.length, m = b.length, x, y;
    if (!n || !m || n * m > MAX_CELLS) {
      if (!n && !m) return [];
      return [[n && m ? "replace" : (n ? "delete" : "insert"), oa, oa + n, ob, ob + m]];
    }
    var t = [];
    for (x = 0; x <= n; x++) t.push(new Int32Array(m + 1));
    for (x = n - 1; x >= 0; x--) for (y = m - 1; y >= 0; y--)
      t[x][y] = a[x] === b[y] ? t[x + 1][y + 1] + 1 : Math.max(t[x + 1][y], t[x][y + 1]);
    var ops = [], i = 0, j = 0, si = 0, sj = 0;
    function flush() {
      if (i > si || j > sj) ops.push([i > si && j > sj ? "replace" : (i > si ? "delete" : "insert"), oa + si, oa + i, ob + sj, ob + j]);
    }
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) {
        flush();
        var ei = i, ej = j;
        while (i < n && j < m && a[i] === b[j]) { i++; j++; }
        ops.push(["equal", oa + ei, oa + i, ob + ej, ob + j]);
        si = i; sj = j;
      } else if (j >= m || (i < n && t[i + 1][j] >= t[i][j + 1])) i++;
      else j++;
    }
    flush();
    return ops;
  }

  function opcodes(a, b) {  // a, b: arrays of strings (keys)
    var n = a.length, m = b.length, start = 0;
    while (start < n && start < m && a[start] === b[start]) start++;
    var ea = n, eb = m;
    while (ea > start && eb > start && a[ea - 1] === b[eb - 1]) { ea--; eb--; }
    var ops = start ? [["equal", 0, start, 0, start]] : [];
    ops = ops.concat(lcs(a.slice(start, ea), b.slice(start, eb), start, start));
    if (ea < n) ops.push(["equal", ea, n, eb, m]);
    return ops;
  }

  // ---- redline: redline.spans / word_diff / likeness / pair_blocks / redline ----
  function sameMarks(a, b) { return a.join("\u0001") === b.join("\u0001"); }

  function spans(words, op) {
    var out = [], text = null, marks = [], glue = false;
    words.forEach(function (w) {
      if (text !== null && sameMarks(w[1], marks)) { text += (w[2] ? "" : " ") + w[0]; return; }
      if (text !== null) out.push([op, text, marks, glue]);
      text = w[0]; marks = w[1]; glue = w[2];
    });
    if (text !== null) out.push([op, text, marks, glue]);
    return out;
  }

  function slide(ops, oldW, newW) {  // redline._slide: a run holding a cell's block marker starts with one
    ops = ops.map(function (op) { return op.slice(); });
    for (var k = 1; k < ops.length; k++) {
      var op = ops[k], before = ops[k - 1];
      if ((op[0] !== "insert" && op[0] !== "delete") || before[0] !== "equal") continue;
      var words = op[0] === "insert" ? newW : oldW, at = op[0] === "insert" ? 3 : 1;
      while (before[at + 1] > before[at] && markerKind(words[op[at]][1]) === null &&
             words.slice(op[at], op[at + 1]).some(function (w) { return markerKind(w[1]) !== null; }) &&
             wordKey(words[op[at] - 1]) === wordKey(words[op[at + 1] - 1])) {
        before[2]--; before[4]--;
        op[1]--; op[2]--; op[3]--; op[4]--;
        if (k + 1 < ops.length && ops[k + 1][0] === "equal") { ops[k + 1][1]--; ops[k + 1][3]--; }
        else ops.splice(k + 1, 0, ["equal", op[2], op[2] + 1, op[4], op[4] + 1]);
      }
    }
    return ops.filter(function (op) { return op[1] < op[2] || op[3] < op[4]; });
  }

  function wordDiff(oldW, newW) {
    var out = [];
    slide(opcodes(oldW.map(wordKey), newW.map(wordKey)), oldW, newW).forEach(function (op) {
      if (op[0] === "equal") { out = out.concat(spans(newW.slice(op[3], op[4]), "equal")); return; }
      out = out.concat(spans(oldW.slice(op[1], op[2]), "delete"), spans(newW.slice(op[3], op[4]), "insert"));
    });
    return out;
  }

  function likeness(a, b) {
    if (!a.length || !b.length) return 0;
    var counts = new Map(), common = 0;
    a.forEach(function (w) { counts.set(w[0], (counts.get(w[0]) || 0) + 1); });
    b.forEach(function (w) {
      var c = counts.get(w[0]) || 0;
      if (c > 0) { counts.set(w[0], c - 1); common++; }
    });
    return 2 * common / (a.length + b.length);
  }

  function pairBlocks(olds, news) {
    var cands = [], ow = olds.map(unitWords), nw = news.map(unitWords);
    olds.forEach(function (a, i) {
      news.forEach(function (b, j) {
        if (a[0] !== b[0]) return;
        var s = likeness(ow[i], nw[j]);
        if (s >= LIKENESS) cands.push([-s, i, j]);
      });
    });
    cands.sort(function (p, q) { return (p[0] - q[0]) || (p[1] - q[1]) || (p[2] - q[2]); });
    var taken = [];
    cands.forEach(function (c) {
      var i = c[1], j = c[2];
      if (taken.every(function (t) { return (i < t[0] && j < t[1]) || (i > t[0] && j > t[1]); })) taken.push([i, j]);
    });
    return taken.sort(function (p, q) { return p[0] - q[0]; });
  }

  function pieces(sp) {
    var out = [];
    sp.forEach(function (s) {
      if (out.length && out[out.length - 1][0] === s[0]) out[out.length - 1][1] += (s[3] ? "" : " ") + s[1];
      else out.push([s[0], s[1]]);
    });
    return out;
  }

  function block(kind, status, sp, cells) {
    var b = {kind: kind, status: status, pieces: pieces(cells ? [].concat.apply([], cells) : sp), spans: sp};
    if (cells && cells.length) b.cells = cells;
    return b;
  }
  function whole(u, status, op) {
    if (isRow(u[0])) return block(u[0], status, [], u[1].map(function (c) { return spans(c, op); }));
    return block(u[0], status, spans(u[1], op));
  }
  function modified(o, n) {  // redline._modified
    if (!isRow(n[0])) return block(n[0], "modified", wordDiff(o[1], n[1]));
    var cells = [];
    for (var k = 0; k < Math.max(o[1].length, n[1].length); k++) {
      if (k >= n[1].length) cells.push(spans(o[1][k], "delete"));
      else if (k >= o[1].length) cells.push(spans(n[1][k], "insert"));
      else cells.push(wordDiff(o[1][k], n[1][k]));
    }
    return block(n[0], "modified", [], cells);
  }

  function redline(oldU, newU) {
    var blocks = [];
    opcodes(oldU.map(unitKey), newU.map(unitKey)).forEach(function (op) {
      var i1 = op[1], i2 = op[2], j1 = op[3], j2 = op[4];
      if (op[0] === "equal") { newU.slice(j1, j2).forEach(function (u) { blocks.push(whole(u, "equal", "equal")); }); return; }
      var i = i1, j = j1;
      pairBlocks(oldU.slice(i1, i2), newU.slice(j1, j2)).concat([[i2 - i1, j2 - j1]]).forEach(function (p) {
        oldU.slice(i, i1 + p[0]).forEach(function (u) { blocks.push(whole(u, "delete", "delete")); });
        newU.slice(j, j1 + p[1]).forEach(function (u) { blocks.push(whole(u, "insert", "insert")); });
        if (i1 + p[0] < i2) blocks.push(modified(oldU[i1 + p[0]], newU[j1 + p[1]]));
        i = i1 + p[0] + 1; j = j1 + p[1] + 1;
      });
    });
    return blocks;
  }

  // ---- sections: diff/sections.py ----
  function ownBlocks(s) { return s.body.filter(function (b) { return !(typeof b === "object" && b.section); }); }

  function walk(sections, parent, depth, out) {  // Policy.walk
    var counter = 0;
    sections.forEach(function (s) {
      var number = null;
      if (s.numbered !== false) { counter += 1; number = counter + "."; }
      out.push({section: s, number: number, depth: depth, parent: parent});
      walk(s.body.filter(function (b) { return typeof b === "object" && b.section; })
        .map(function (b) { return b.section; }), s.id, depth + 1, out);
    });
    return out;
  }

  // A paragraph is text, or {text, anchor}; an item or a cell is text, {text, anchor} or {body, anchor?}:
  // anchors are never words (model.block_to_data, cell_to_data).
  function paragraphText(b) { return typeof b === "string" ? b : (typeof b.text === "string" ? b.text : null); }

  function cellWords(c, text) {  // sections.cell_words: each item and each further paragraph starts with a marker
    if (typeof c === "string" || !c.body) { var own = paragraphText(c || ""); return own ? wordsOf(text, own) : []; }
    var out = [];
    c.body.forEach(function (b, n) {
      var para = paragraphText(b);
      if (para !== null) {
        if (n) out.push([CELL_MARKERS.p, ["p"], false]);
        out = out.concat(wordsOf(text, para));
        return;
      }
      var kind = b.numbered ? "li:ol" : "li:ul";
      (b.numbered || b.bullets).forEach(function (item) {
        out.push([CELL_MARKERS[kind], [kind], false]);
        out = out.concat(typeof item === "string" ? wordsOf(text, item) : []);
      });
    });
    return out;
  }

  function blockUnits(b, path, text, out) {  // sections._block_units
    var inner = path ? path + "+" : "", para = paragraphText(b);
    if (para !== null) { out.push([inner + "p", wordsOf(text, para)]); return; }
    if (b.bullets || b.numbered) {
      var itemPath = (path ? path + "/" : "") + (b.numbered ? "ol" : "ul");
      (b.numbered || b.bullets).forEach(function (item) {
        var own = paragraphText(item);
        if (own !== null) { out.push([itemPath, wordsOf(text, own)]); return; }
        var rest = item.body.slice(1), first = paragraphText(item.body[0]);
        if (first !== null) out.push([itemPath, wordsOf(text, first)]);
        else { out.push([itemPath, []]); rest = item.body; }
        rest.forEach(function (inside) { blockUnits(inside, itemPath, text, out); });
      });
      return;
    }
    if (b.table) {
      var t = b.table, cells = function (row) { return row.map(function (c) { return cellWords(c, text); }); };
      out.push([inner + (t.row_headers ? "table*" : "table"), t.caption ? wordsOf(text, t.caption) : []]);
      if (t.header) out.push([inner + "th", cells(t.header)]);
      t.rows.forEach(function (row) { out.push([inner + "tr", cells(row)]); });
    }
  }

  function units(section, text) {  // sections.units
    var out = [];
    if (!section) return out;
    if (section.summary) out.push(["summary", wordsOf(text, section.summary)]);
    ownBlocks(section).forEach(function (b) { blockUnits(b, "", text, out); });
    return out;
  }

  function movedIds(oldOrder, newOrder) {  // sections._moved_ids, same tie-breaking
    var oldSet = new Set(oldOrder), newSet = new Set(newOrder);
    var cn = newOrder.filter(function (i) { return oldSet.has(i); });
    var co = oldOrder.filter(function (i) { return newSet.has(i); });
    if (cn.join("\u0000") === co.join("\u0000")) return new Set();
    var n = co.length, m = cn.length, t = [], x, y;
    for (x = 0; x <= n; x++) t.push(new Int32Array(m + 1));
    for (x = n - 1; x >= 0; x--) for (y = m - 1; y >= 0; y--)
      t[x][y] = co[x] === cn[y] ? t[x + 1][y + 1] + 1 : Math.max(t[x + 1][y], t[x][y + 1]);
    var keep = new Set(); x = 0; y = 0;
    while (x < n && y < m) {
      if (co[x] === cn[y]) { keep.add(co[x]); x++; y++; }
      else if (t[x + 1][y] >= t[x][y + 1]) x++;
      else y++;
    }
    return new Set(cn.filter(function (i) { return !keep.has(i); }));
  }

  function index(placed) {
    var byId = new Map(), groups = new Map();
    placed.forEach(function (p) {
      byId.set(p.section.id, p);
      if (!groups.has(p.parent)) groups.set(p.parent, []);
      groups.get(p.parent).push(p.section.id);
    });
    return {byId: byId, groups: groups};
  }

  function label(p) { return p.number ? p.number + " " + p.section.title : p.section.title; }

  function context(ix, id) {
    var out = [], parent = ix.byId.get(id).parent;
    while (parent !== null) { out.unshift(label(ix.byId.get(parent))); parent = ix.byId.get(parent).parent; }
    return out;
  }

  function place(ix, id) {  // sections._place
    var p = ix.byId.get(id), sib = ix.groups.get(p.parent), at = sib.indexOf(id), after = at ? sib[at - 1] : null;
    return {parent: p.parent, parent_label: p.parent === null ? null : label(ix.byId.get(p.parent)),
            position: at + 1, siblings: sib.length, after: after,
            after_label: after === null ? null : label(ix.byId.get(after))};
  }

  function moveText(o, n) {  // sections.move_text: where a moved section now stands
    var changed = o.parent !== n.parent, where;
    var inside = n.parent_label !== null ? "under \u201c" + n.parent_label + "\u201d" : "at the top level";
    if (n.after_label === null)
      where = (n.siblings === 1 ? "the only section" : "the first section") + (changed || n.parent !== null ? " " + inside : "");
    else where = (changed ? inside + ", after" : "after") + " \u201c" + n.after_label + "\u201d";
    return "Moved: now " + where + ".";
  }

  function eqUnits(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (unitKey(a[i]) !== unitKey(b[i])) return false;
    return true;
  }

  function diffPolicies(oldDoc, newDoc) {  // sections.diff_policies + diff_to_data
    var oldP = oldDoc.policy, newP = newDoc.policy, oldT = oldDoc.text, newT = newDoc.text;
    var oi = index(walk(oldP.sections, null, 1, [])), ni = index(walk(newP.sections, null, 1, []));
    var moved = new Set();
    ni.groups.forEach(function (ids, parent) {
      movedIds(oi.groups.get(parent) || [], ids).forEach(function (i) { moved.add(i); });
    });
    ni.byId.forEach(function (p, id) {
      var before = oi.byId.get(id);
      if (before && before.parent !== p.parent) moved.add(id);
    });
    var sections = [];
    ni.byId.forEach(function (p, id) {
      var before = oi.byId.get(id), kinds = [];
      var same = before && JSON.stringify(ownBlocks(before.section)) === JSON.stringify(ownBlocks(p.section)) &&
        (before.section.summary || null) === (p.section.summary || null);
      var uo = same || !before ? [] : units(before.section, oldT), un = same ? [] : units(p.section, newT);
      if (!before) kinds.push("added");
      else {
        if (before.section.title !== p.section.title) kinds.push("renamed");
        if (moved.has(id)) kinds.push("moved");
        if (!same && !eqUnits(uo, un)) kinds.push("modified");
      }
      var needs = kinds.indexOf("added") >= 0 || kinds.indexOf("modified") >= 0;
      var isMoved = kinds.indexOf("moved") >= 0;
      sections.push({id: id, kinds: kinds, old_title: before ? before.section.title : null, new_title: p.section.title,
                     old_number: before ? before.number : null, new_number: p.number, context: context(ni, id),
                     old_place: isMoved ? place(oi, id) : null, new_place: isMoved ? place(ni, id) : null,
                     move: isMoved ? moveText(place(oi, id), place(ni, id)) : null,
                     redline: needs ? redline(uo, un) : []});
    });
    oi.byId.forEach(function (p, id) {
      if (!ni.byId.has(id))
        sections.push({id: id, kinds: ["removed"], old_title: p.section.title, new_title: null, old_number: p.number,
                       new_number: null, context: context(oi, id), old_place: null, new_place: null, move: null,
                       redline: redline(units(p.section, oldT), [])});
    });
    var meta = [];
    [["title", oldP.title, newP.title], ["version", oldP.version, newP.version],
     ["effective date", oldP.effective, newP.effective], ["organisation", oldP.organisation.name, newP.organisation.name],
     ["contact", oldP.organisation.contact, newP.organisation.contact]].forEach(function (f) {
      if (f[1] !== f[2]) meta.push({field: f[0], old: f[1], new: f[2]});
    });
    var intro = [];
    if (JSON.stringify(oldP.introduction) !== JSON.stringify(newP.introduction)) {
      intro = redline(oldP.introduction.map(function (t) { return ["p", wordsOf(oldT, t)]; }),
                      newP.introduction.map(function (t) { return ["p", wordsOf(newT, t)]; }));
      if (intro.every(function (b) { return b.status === "equal"; })) intro = [];
    }
    var changed = sections.filter(function (s) { return s.kinds.length; });
    function count(k) { return changed.filter(function (s) { return s.kinds.indexOf(k) >= 0; }).length; }
    return {from: oldP.version, to: newP.version, meta: meta, introduction_changed: intro.length > 0,
            introduction: intro, sections: changed, unchanged: sections.length - changed.length,
            counts: {added: count("added"), removed: count("removed"), modified: count("modified"),
                     renamed: count("renamed"), moved: count("moved"), sections_before: oi.byId.size,
                     sections_after: ni.byId.size},
            visible: changed.length > 0 || intro.length > 0 || meta.some(function (m) {
              return m.field !== "version" && m.field !== "effective date"; })};
  }

  // ---- rendering (DOM only, textContent for all data): diff/redline_render.py ----
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function safeHref(href, base) {
    var scheme = /^([a-z][a-z0-9+.\-]*):/i.exec(href.replace(/[\x00-\x20]+/g, ""));
    if (scheme && ["http", "https", "mailto"].indexOf(scheme[1].toLowerCase()) < 0) return null;
    if (href.charAt(0) === "#") return base.anchors + href;
    if (href.charAt(0) === "/" && href.charAt(1) !== "/") return base.site + href.slice(1);
    return href;
  }

  function formatted(sp, base) {
    var frag = document.createDocumentFragment();
    sp.forEach(function (s, i) {
      if (i && !s[3]) frag.appendChild(document.createTextNode(" "));
      var node = document.createDocumentFragment(), marks = s[2], href = null;
      s[1].split("\n").forEach(function (line, k) {  // a line break inside the text (an address)
        if (k) node.appendChild(el("br"));
        node.appendChild(document.createTextNode(line));
      });
      if (marks.indexOf("strong") >= 0) node = el("strong", {}, [node]);
      if (marks.indexOf("em") >= 0) node = el("em", {}, [node]);
      marks.forEach(function (m) { if (m.indexOf("a:") === 0) href = safeHref(m.slice(2), base); });
      if (href !== null) node = el("a", {href: href}, [node]);
      frag.appendChild(node);
    });
    return frag;
  }

  function joinSpans(sp) { return sp.map(function (s, i) { return (i && !s[3] ? " " : "") + s[1]; }).join(""); }

  function markNote(oldS, newS) {  // redline_render.mark_note
    if (joinSpans(oldS) !== joinSpans(newS)) return null;
    function links(sp) {
      var out = [];
      sp.forEach(function (s) { s[2].forEach(function (m) { if (m.indexOf("a:") === 0 && out.indexOf(m.slice(2)) < 0) out.push(m.slice(2)); }); });
      return out;
    }
    var notes = [], before = links(oldS).join(", "), after = links(newS).join(", ");
    if (before !== after) notes.push(before && after ? "link: " + before + " \u2192 " + after : (after ? "link added: " + after : "link removed: " + before));
    [["em", "emphasis"], ["strong", "bold"]].forEach(function (mk) {
      var had = oldS.some(function (s) { return s[2].indexOf(mk[0]) >= 0; }), has = newS.some(function (s) { return s[2].indexOf(mk[0]) >= 0; });
      if (had !== has) notes.push(mk[1] + (has ? " added" : " removed"));
    });
    return notes.join("; ") || "formatting changed";
  }

  function mark(op, content) {
    var lab = op === "insert" ? "inserted" : "deleted";
    return el(op === "insert" ? "ins" : "del", {}, [el("span", {"class": "visually-hidden"}, ["[" + lab + ": "]), content,
                                                  el("span", {"class": "visually-hidden"}, ["]"])]);
  }

  function fillSpans(node, sp, base) {  // redline_render.spans_html, into node
    var groups = [];
    sp.forEach(function (s) {
      if (groups.length && groups[groups.length - 1][0] === s[0]) groups[groups.length - 1][1].push(s);
      else groups.push([s[0], [s]]);
    });
    groups.forEach(function (g, n) {  // a space before each group but a glued one; always between del and ins
      if (n && (!g[1][0][3] || (g[0] === "insert" && groups[n - 1][0] === "delete"))) node.appendChild(document.createTextNode(" "));
      var inner = formatted(g[1], base);
      node.appendChild(g[0] === "equal" ? inner : mark(g[0], inner));
      if (g[0] === "insert" && n && groups[n - 1][0] === "delete") {
        var note = markNote(groups[n - 1][1], g[1]);
        if (note) { node.appendChild(document.createTextNode(" ")); node.appendChild(el("span", {"class": "redline-note"}, ["(" + note + ")"])); }
      }
    });
    return node;
  }

  var STRUCTURE_NOTES = {"li insert": "now a list item", "li delete": "no longer a list item",
                         "p insert": "now a paragraph of its own", "p delete": "no longer a paragraph of its own"};

  function cellBlocks(sp) {  // redline_render.cell_blocks: [marker kind or null, its op, spans]
    var out = [[null, "equal", []]];
    sp.forEach(function (s) {
      var kind = markerKind(s[2]);
      if (kind === null) { out[out.length - 1][2].push(s); return; }
      s[1].split(" ").forEach(function () { out.push([kind, s[0], []]); });
    });
    return out.length > 1 && !out[0][2].length ? out.slice(1) : out;
  }

  function fillCell(node, sp, base) {  // redline_render.cell_html, into node
    var blocks = cellBlocks(sp), list = null, listTag = null;
    if (blocks.length === 1 && blocks[0][0] === null) return fillSpans(node, sp, base);
    blocks.forEach(function (blk) {
      var kind = blk[0], op = blk[1], inner = blk[2];
      var tag = kind === "li:ul" ? "ul" : (kind === "li:ol" ? "ol" : null);
      if (tag !== listTag) { list = tag ? node.appendChild(el(tag)) : null; listTag = tag; }
      if (kind === null && inner.length && inner.every(function (s) { return s[0] === inner[0][0]; })) op = inner[0][0];
      var status = op !== "equal" ? op : (inner.some(function (s) { return s[0] !== "equal"; }) ? "modified" : null);
      var item = fillSpans(el(tag ? "li" : "p", status ? {"class": "redline-" + status} : {}), inner, base);
      if (kind !== null && op !== "equal" && !inner.every(function (s) { return s[0] === op; })) {
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("span", {"class": "redline-note"}, ["(" + STRUCTURE_NOTES[kind.split(":")[0] + " " + op] + ")"]));
      }
      (list || node).appendChild(item);
    });
    return node;
  }

  function kindParts(kind) {  // redline_render.kind_parts
    var plus = kind.indexOf("+");
    if (plus >= 0) return [kind.slice(0, plus).split("/"), kind.slice(plus + 1)];
    var first = kind.split("/")[0];
    return first === "ul" || first === "ol" ? [kind.split("/"), null] : [[], kind];
  }

  function renderRedline(blocks, base) {  // redline_render._Html: nested lists, paragraphs, tables
    var box = el("div", {"class": "redline"}), lists = [], table = null, tableKind = null;
    function here() { return lists.length ? lists[lists.length - 1].li : box; }
    function closeLists(depth) { while (lists.length > depth) lists.pop(); table = null; }
    function enter(path, newItem, cls) {
      table = null;
      var same = 0;
      while (same < Math.min(lists.length, path.length) && lists[same].tag === path[same]) same++;
      if (newItem && same === path.length && path.length) {
        closeLists(path.length);
        var top = lists[lists.length - 1];
        top.li = el("li", cls);
        top.list.appendChild(top.li);
        return;
      }
      closeLists(same);
      path.slice(same).forEach(function (tag, k) {
        var list = el(tag, {"class": "redline"}), li = el("li", same + k + 1 === path.length && newItem ? cls : {});
        list.appendChild(li);
        here().appendChild(list);
        lists.push({tag: tag, list: list, li: li});
      });
    }
    function openTable(caption, cls) {
      var region = el("div", {"class": "policy-table", role: "region", tabindex: "0", "aria-label": "Table"});
      var t = el("table", {"class": "redline-table"});
      if (caption) t.appendChild(caption);
      table = el("tbody");
      t.appendChild(table);
      region.appendChild(t);
      here().appendChild(region);
    }
    blocks.forEach(function (b) {
      var parts = kindParts(b.kind), path = parts[0], leaf = parts[1];
      var cls = b.status !== "equal" ? {"class": "redline-" + b.status} : {};
      if (leaf === "th" || leaf === "tr") {
        if (!table) { enter(path, false, {}); openTable(null); tableKind = "table"; }
        var tr = el("tr", cls);
        (b.cells || [[["equal", "\u2026", [], false]]]).forEach(function (cell, k) {
          var attrs = leaf === "th" ? {scope: "col"} : (k === 0 && tableKind === "table*" ? {scope: "row"} : null);
          tr.appendChild(fillCell(el(attrs ? "th" : "td", attrs || {}), cell, base));
        });
        table.appendChild(tr);
        return;
      }
      if (leaf === null) { enter(path, true, cls); fillSpans(here(), b.spans, base); return; }
      enter(path, false, {});
      if (leaf === "table" || leaf === "table*") {
        openTable(b.spans.length ? fillSpans(el("caption", cls), b.spans, base) : null);
        tableKind = leaf;
        return;
      }
      var p = el("p", b.status !== "equal" ? cls : (leaf === "summary" ? {"class": "policy-summary"} : {}));
      if (leaf === "summary") p.appendChild(el("strong", {"class": "policy-summary__title"}, ["In short: "]));
      here().appendChild(fillSpans(p, b.spans, base));
    });
    return box;
  }

  function labelOf(s) { return ((s.new_number || s.old_number || "") + " " + (s.new_title || s.old_title)).trim(); }
  function pathLabel(s) { return s.context.concat([labelOf(s)]).join(SEP); }

  function summaryText(r) {
    var parts = [];
    ["added", "removed", "modified", "renamed", "moved"].forEach(function (k) { if (r.counts[k]) parts.push(r.counts[k] + " " + k); });
    return r.sections.length + " of " + Math.max(r.counts.sections_before, r.counts.sections_after) + " sections changed" +
      (parts.length ? " (" + parts.join(", ") + ")" : "") + "; " + r.unchanged + " unchanged.";
  }

  // Dates as the page's language writes them ("4 May 2026"), rendered by the site (site/dates.py, the page's
  // data-dates: ISO date -> text); versions.json and policy.json keep ISO dates, which <time datetime> keeps too.
  var shownDates = {};
  function dateText(iso) { return Object.prototype.hasOwnProperty.call(shownDates, iso) ? shownDates[iso] : iso; }
  function timeEl(iso) { return el("time", {datetime: iso}, [dateText(iso)]); }

  function badge(s) { return el("span", {"class": "policy-kind policy-kind--" + s.kinds[0]}, [s.kinds.join(", ")]); }

  function render(target, result, from, to, base) {
    target.textContent = "";
    target.appendChild(el("h2", {id: "compare-heading"}, ["Version " + result.from + " \u2192 version " + result.to]));
    target.appendChild(el("p", {"class": "policy-meta"}, ["Effective ", timeEl(from.effective), " \u2192 ", timeEl(to.effective),
                                                          ". " + summaryText(result)]));
    if (!result.visible) target.appendChild(el("p", {}, ["The two texts read exactly the same (an editorial version)."]));
    if (result.meta.length) {
      var metaList = el("ul", {"class": "policy-meta-changes"});
      result.meta.forEach(function (m) {
        var dated = m.field === "effective date";
        metaList.appendChild(el("li", {}, [m.field + ": ", mark("delete", dated ? timeEl(m.old) : document.createTextNode(m.old)),
                                           " \u2192 ", mark("insert", dated ? timeEl(m.new) : document.createTextNode(m.new))]));
      });
      target.appendChild(metaList);
    }
    var list = el("ul", {"class": "policy-change-list"});
    result.sections.forEach(function (s) { list.appendChild(el("li", {}, [badge(s), " ", pathLabel(s)])); });
    if (!result.sections.length) list.appendChild(el("li", {}, ["No section changed."]));
    target.appendChild(list);
    if (result.introduction_changed)
      target.appendChild(el("section", {"class": "policy-change"}, [el("p", {"class": "policy-change__title"}, ["Introduction"]), renderRedline(result.introduction, base)]));
    result.sections.forEach(function (s) {
      var box = el("section", {"class": "policy-change", id: "change-" + s.id}, [
        el("p", {"class": "policy-change__title"}, [pathLabel(s) + " ", badge(s)])]);
      if (s.kinds.indexOf("renamed") >= 0)
        box.appendChild(el("p", {"class": "policy-rename"}, ["Title: ", mark("delete", document.createTextNode(s.old_title)), " \u2192 ",
                                                              mark("insert", document.createTextNode(s.new_title))]));
      if (s.move) box.appendChild(el("p", {"class": "policy-moved"}, [s.move]));
      if (s.redline.length) box.appendChild(renderRedline(s.redline, base));
      target.appendChild(box);
    });
  }

  function load(url) {
    return fetch(url).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  function start() {
    var root = document.getElementById("policy-compare");
    if (!root) return;
    var siteBase = root.getAttribute("data-base"), target = document.getElementById("compare-result");
    try { shownDates = JSON.parse(root.getAttribute("data-dates") || "{}") || {}; } catch (e) { shownDates = {}; }
    var fromSel = document.getElementById("compare-from"), toSel = document.getElementById("compare-to");
    var status = document.getElementById("compare-status");
    load(siteBase + "versions.json").then(function (index) {
      var versions = index.versions.map(function (v) { return v.version; });
      [fromSel, toSel].forEach(function (sel) {
        sel.textContent = "";
        index.versions.forEach(function (v) {
          sel.appendChild(el("option", {value: v.version}, [v.version + " (effective " + dateText(v.effective) + ", " + v.status + ")"]));
        });
      });
      var params = new URLSearchParams(window.location.search);
      var current = index.current, i = versions.indexOf(current);
      var asked = [params.get("from"), params.get("to")].filter(function (v) { return v !== null && versions.indexOf(v) < 0; });
      fromSel.value = params.get("from") !== null && versions.indexOf(params.get("from")) >= 0 ? params.get("from") : (versions[i + 1] || current);
      toSel.value = params.get("to") !== null && versions.indexOf(params.get("to")) >= 0 ? params.get("to") : current;
      var word = document.getElementById("compare-word");
      function wordLink(a, b) {  // a consecutive pair's .docx: its later version's word_url in versions.json
        if (!word) return;
        word.textContent = "";
        var record = index.versions[versions.indexOf(b)];
        if (versions.indexOf(a) === versions.indexOf(b) + 1 && record && record.word_url) {
          word.appendChild(document.createTextNode("For review in Word: "));
          // the file's name from versions.json; its folder from this page's (the site may be served elsewhere)
          word.appendChild(el("a", {href: siteBase + "changes/" + b + "/" + record.word_url.split("/").pop()},
                              ["these changes from version " + a + " to version " + b + " as tracked changes (.docx)"]));
          word.appendChild(document.createTextNode("."));
        } else {
          word.appendChild(document.createTextNode("A Word document with tracked changes is published for each version's changes from the version before it; for versions " + a + " and " + b + ", run "));
          word.appendChild(el("code", {}, ["policy diff " + a + " " + b + " --format docx -o redline.docx"]));
          word.appendChild(document.createTextNode(" in the policy's repository."));
        }
      }
      function compare() {
        var a = fromSel.value, b = toSel.value;
        wordLink(a, b);
        status.textContent = "Comparing " + a + " with " + b + "\u2026";
        target.setAttribute("aria-busy", "true");
        return Promise.all([load(siteBase + "versions/" + a + "/policy.json"), load(siteBase + "versions/" + b + "/policy.json")])
          .then(function (docs) {
            var result = diffPolicies(docs[0], docs[1]);
            render(target, result, docs[0], docs[1], {site: siteBase, anchors: siteBase + "versions/" + b + "/"});
            window.policyCompare = result;
            status.textContent = "Showing the changes from version " + a + " to version " + b + ".";
            target.setAttribute("aria-busy", "false");
            target.setAttribute("data-state", "done");
            var url = new URL(window.location.href);
            url.searchParams.set("from", a); url.searchParams.set("to", b);
            window.history.replaceState(null, "", url);
          })
          .catch(function (err) {
            status.textContent = "Could not compare: " + err.message;
            target.setAttribute("data-state", "error");
          });
      }
      root.querySelector("form").addEventListener("submit", function (event) { event.preventDefault(); compare(); });
      if (asked.length) {  // never compare other versions than the ones asked for
        status.textContent = "There is no published version " + asked.join(" or ") + ". Published versions: " +
          versions.join(", ") + ". Pick two versions above.";
        target.setAttribute("data-state", "unknown-version");
        return;
      }
      compare();
    }).catch(function (err) { status.textContent = "Could not load the list of versions: " + err.message; });
  }

  window.policyDiff = diffPolicies;
  window.policyRedline = renderRedline;  // the tests compare its text with redline_render.redline_html
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
