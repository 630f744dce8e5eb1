/* Compare any two published versions in the browser: loads /versions/<v>/policy.json and mirrors the
   section-level diff of scripts/policy_site/diff/ (same section kinds; redlines by word LCS). No dependencies.
   Text from the JSON is only ever inserted with textContent, never as HTML. */
(function () {
  "use strict";
  var W = "[\\p{L}\\p{N}_]";
  var TOKEN = new RegExp(
    "\\[([^\\]\\n]+)\\]\\(([^)\\n]*)\\)" +
    "|\\*\\*([^*\\n]+?)\\*\\*" +
    "|(?<!(?:" + W + "|\\*))\\*([^*\\n]+?)\\*(?!(?:" + W + "|\\*))" +
    "|(?<!(?:" + W + "|_))_([^_\\n]+?)_(?!(?:" + W + "|_))", "gu");

  function oneLine(text) {
    return /\s\s|[\t\n\r\f\v]/.test(text) ? text.replace(/\s+/g, " ").trim() : text.trim();
  }

  function toText(text) {  // inline.to_text
    if (text.indexOf("[") < 0 && text.indexOf("*") < 0 && text.indexOf("_") < 0) return oneLine(text);
    text = oneLine(text);
    return text.replace(TOKEN, function (m, label, url, strong, em, em2) {
      if (label !== undefined) return url.charAt(0) === "#" ? label : label + " (" + url + ")";
      return strong !== undefined ? strong : (em !== undefined ? em : em2);
    });
  }

  function walk(sections, parent, depth, out) {  // Policy.walk
    var counter = 0;
    sections.forEach(function (s) {
      var number = null;
      if (s.numbered !== false) { counter += 1; number = counter + "."; }
      out.push({section: s, number: number, depth: depth, parent: parent});
      var subs = s.body.filter(function (b) { return typeof b === "object" && b.section; })
        .map(function (b) { return b.section; });
      walk(subs, s.id, depth + 1, out);
    });
    return out;
  }

  function lines(section) {  // diff._lines
    var out = [];
    if (!section) return out;
    section.body.forEach(function (b) {
      if (typeof b === "string") out.push(["p", toText(b)]);
      else if (b.bullets) b.bullets.forEach(function (i) { out.push(["ul", toText(i)]); });
      else if (b.numbered) b.numbered.forEach(function (i) { out.push(["ol", toText(i)]); });
    });
    return out;
  }

  function sameLines(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i][0] !== b[i][0] || a[i][1] !== b[i][1]) return false;
    return true;
  }

  function movedIds(oldOrder, newOrder) {  // diff._moved_ids, same tie-breaking
    var oldSet = new Set(oldOrder), newSet = new Set(newOrder);
    var cn = newOrder.filter(function (i) { return oldSet.has(i); });
    var co = oldOrder.filter(function (i) { return newSet.has(i); });
    if (cn.join("\u0000") === co.join("\u0000")) return new Set();
    var n = co.length, m = cn.length, t = [];
    for (var x = 0; x <= n; x++) t.push(new Array(m + 1).fill(0));
    for (x = n - 1; x >= 0; x--) for (var y = m - 1; y >= 0; y--)
      t[x][y] = co[x] === cn[y] ? t[x + 1][y + 1] + 1 : Math.max(t[x + 1][y], t[x][y + 1]);
    var keep = new Set(); x = 0; y = 0;
    while (x < n && y < m) {
      if (co[x] === cn[y]) { keep.add(co[x]); x++; y++; }
      else if (t[x + 1][y] >= t[x][y + 1]) x++;
      else y++;
    }
    return new Set(cn.filter(function (i) { return !keep.has(i); }));
  }

  function groups(placed) {
    var g = new Map();
    placed.forEach(function (p) {
      if (!g.has(p.parent)) g.set(p.parent, []);
      g.get(p.parent).push(p.section.id);
    });
    return g;
  }

  function opcodes(a, b, eq) {  // LCS alignment → [tag, i1, i2, j1, j2]
    var n = a.length, m = b.length, t = [], x, y;
    for (x = 0; x <= n; x++) t.push(new Array(m + 1).fill(0));
    for (x = n - 1; x >= 0; x--) for (y = m - 1; y >= 0; y--)
      t[x][y] = eq(a[x], b[y]) ? t[x + 1][y + 1] + 1 : Math.max(t[x + 1][y], t[x][y + 1]);
    var ops = [], i = 0, j = 0, si = 0, sj = 0;
    function flush() {
      if (i > si || j > sj) ops.push([i > si && j > sj ? "replace" : (i > si ? "delete" : "insert"), si, i, sj, j]);
    }
    while (i < n || j < m) {
      if (i < n && j < m && eq(a[i], b[j])) {
        flush();
        var ei = i, ej = j;
        while (i < n && j < m && eq(a[i], b[j])) { i++; j++; }
        ops.push(["equal", ei, i, ej, j]);
        si = i; sj = j;
      } else if (j >= m || (i < n && t[i + 1][j] >= t[i][j + 1])) i++;
      else j++;
    }
    flush();
    return ops;
  }

  function wordDiff(oldText, newText) {
    var a = oldText.match(/\S+/g) || [], b = newText.match(/\S+/g) || [], pieces = [];
    opcodes(a, b, function (p, q) { return p === q; }).forEach(function (op) {
      if (op[0] === "equal") { pieces.push(["equal", a.slice(op[1], op[2]).join(" ")]); return; }
      if (op[2] > op[1]) pieces.push(["delete", a.slice(op[1], op[2]).join(" ")]);
      if (op[4] > op[3]) pieces.push(["insert", b.slice(op[3], op[4]).join(" ")]);
    });
    return pieces;
  }

  function redline(oldLines, newLines) {  // diff.redline
    var blocks = [];
    opcodes(oldLines, newLines, function (p, q) { return p[0] === q[0] && p[1] === q[1]; }).forEach(function (op) {
      var tag = op[0], i1 = op[1], i2 = op[2], j1 = op[3], j2 = op[4];
      if (tag === "equal") {
        oldLines.slice(i1, i2).forEach(function (l) { blocks.push({kind: l[0], status: "equal", pieces: [["equal", l[1]]]}); });
        return;
      }
      var pairs = tag === "replace" ? Math.min(i2 - i1, j2 - j1) : 0;
      for (var k = 0; k < pairs; k++)
        blocks.push({kind: newLines[j1 + k][0], status: "modified", pieces: wordDiff(oldLines[i1 + k][1], newLines[j1 + k][1])});
      oldLines.slice(i1 + pairs, i2).forEach(function (l) { blocks.push({kind: l[0], status: "delete", pieces: [["delete", l[1]]]}); });
      newLines.slice(j1 + pairs, j2).forEach(function (l) { blocks.push({kind: l[0], status: "insert", pieces: [["insert", l[1]]]}); });
    });
    return blocks;
  }

  function diffPolicies(oldP, newP) {  // diff.diff_policies
    var oldPlaced = walk(oldP.sections, null, 1, []), newPlaced = walk(newP.sections, null, 1, []);
    var oldById = new Map(oldPlaced.map(function (p) { return [p.section.id, p]; }));
    var newById = new Map(newPlaced.map(function (p) { return [p.section.id, p]; }));
    var og = groups(oldPlaced), moved = new Set();
    groups(newPlaced).forEach(function (ids, parent) {
      movedIds(og.get(parent) || [], ids).forEach(function (i) { moved.add(i); });
    });
    newPlaced.forEach(function (p) {
      var before = oldById.get(p.section.id);
      if (before && before.parent !== p.parent) moved.add(p.section.id);
    });
    var sections = [];
    newPlaced.forEach(function (p) {
      var id = p.section.id, before = oldById.get(id), kinds = [];
      var lo = lines(before ? before.section : null), ln = lines(p.section);
      if (!before) kinds.push("added");
      else {
        if (before.section.title !== p.section.title) kinds.push("renamed");
        if (moved.has(id)) kinds.push("moved");
        if (!sameLines(lo, ln)) kinds.push("modified");
      }
      var needsRedline = kinds.indexOf("added") >= 0 || kinds.indexOf("modified") >= 0;
      sections.push({id: id, kinds: kinds, old_title: before ? before.section.title : null, new_title: p.section.title,
                     old_number: before ? before.number : null, new_number: p.number,
                     redline: needsRedline ? redline(lo, ln) : []});
    });
    oldPlaced.forEach(function (p) {
      if (!newById.has(p.section.id))
        sections.push({id: p.section.id, kinds: ["removed"], old_title: p.section.title, new_title: null,
                       old_number: p.number, new_number: null, redline: redline(lines(p.section), [])});
    });
    var meta = [];
    [["title", oldP.title, newP.title], ["version", oldP.version, newP.version],
     ["effective date", oldP.effective, newP.effective], ["organisation", oldP.organisation.name, newP.organisation.name],
     ["contact", oldP.organisation.contact, newP.organisation.contact]].forEach(function (f) {
      if (f[1] !== f[2]) meta.push({field: f[0], old: f[1], new: f[2]});
    });
    var introChanged = JSON.stringify(oldP.introduction) !== JSON.stringify(newP.introduction);
    return {from: oldP.version, to: newP.version, meta: meta, introduction_changed: introChanged,
            introduction: introChanged ? redline(oldP.introduction.map(function (t) { return ["p", toText(t)]; }),
                                                 newP.introduction.map(function (t) { return ["p", toText(t)]; })) : [],
            sections: sections.filter(function (s) { return s.kinds.length; }),
            unchanged: sections.filter(function (s) { return !s.kinds.length; }).length};
  }

  // ---- rendering (DOM only, textContent for all data) ----
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return node;
  }

  function mark(op, text) {
    var label = op === "insert" ? "inserted" : "deleted";
    return el(op === "insert" ? "ins" : "del", {}, [el("span", {"class": "visually-hidden"}, ["[" + label + ": "]), text,
                                                  el("span", {"class": "visually-hidden"}, ["]"])]);
  }

  function renderRedline(blocks) {
    var box = el("div", {"class": "redline"}), list = null, listKind = null;
    blocks.forEach(function (b) {
      var node = el(b.kind === "p" ? "p" : "li", b.status !== "equal" ? {"class": "redline-" + b.status} : {});
      b.pieces.forEach(function (p, i) {
        if (i) node.appendChild(document.createTextNode(" "));
        node.appendChild(p[0] === "equal" ? document.createTextNode(p[1]) : mark(p[0], p[1]));
      });
      if (b.kind === "p") { list = null; listKind = null; box.appendChild(node); return; }
      if (listKind !== b.kind) { list = el(b.kind, {"class": "redline"}); listKind = b.kind; box.appendChild(list); }
      list.appendChild(node);
    });
    return box;
  }

  function kindLabel(s) { return s.kinds.join(", "); }

  function render(target, result, from, to) {
    target.textContent = "";
    target.appendChild(el("h2", {id: "compare-heading"}, ["Version " + result.from + " → version " + result.to]));
    target.appendChild(el("p", {"class": "policy-meta"}, [
      "Effective " + from.effective + " → " + to.effective + ". " + result.sections.length + " section(s) changed, " +
      result.unchanged + " unchanged."]));
    if (result.meta.length) {
      var metaList = el("ul", {"class": "policy-meta-changes"});
      result.meta.forEach(function (m) {
        metaList.appendChild(el("li", {}, [m.field + ": ", mark("delete", m.old), " → ", mark("insert", m.new)]));
      });
      target.appendChild(metaList);
    }
    var list = el("ul", {"class": "policy-change-list"});
    result.sections.forEach(function (s) {
      list.appendChild(el("li", {}, [el("span", {"class": "policy-kind policy-kind--" + s.kinds[0]}, [kindLabel(s)]), " ",
        ((s.new_number || s.old_number || "") + " " + (s.new_title || s.old_title)).trim()]));
    });
    if (!result.sections.length) list.appendChild(el("li", {}, ["No section changed."]));
    target.appendChild(list);
    if (result.introduction_changed) {
      target.appendChild(el("section", {"class": "policy-change"}, [
        el("p", {"class": "policy-change__title"}, ["Introduction"]), renderRedline(result.introduction)]));
    }
    result.sections.forEach(function (s) {
      var box = el("section", {"class": "policy-change", id: "change-" + s.id}, [
        el("p", {"class": "policy-change__title"}, [((s.new_number || s.old_number || "") + " " + (s.new_title || s.old_title)).trim() + " ",
          el("span", {"class": "policy-kind policy-kind--" + s.kinds[0]}, [kindLabel(s)])])]);
      if (s.kinds.indexOf("renamed") >= 0)
        box.appendChild(el("p", {"class": "policy-rename"}, ["Title: ", mark("delete", s.old_title), " → ", mark("insert", s.new_title)]));
      if (s.redline.length) box.appendChild(renderRedline(s.redline));
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
    var base = root.getAttribute("data-base"), target = document.getElementById("compare-result");
    var fromSel = document.getElementById("compare-from"), toSel = document.getElementById("compare-to");
    var status = document.getElementById("compare-status");
    load(base + "versions.json").then(function (index) {
      var versions = index.versions.map(function (v) { return v.version; });
      [fromSel, toSel].forEach(function (sel) {
        sel.textContent = "";
        index.versions.forEach(function (v) {
          sel.appendChild(el("option", {value: v.version}, [v.version + " (effective " + v.effective + ", " + v.status + ")"]));
        });
      });
      var params = new URLSearchParams(window.location.search);
      var current = index.current, i = versions.indexOf(current);
      fromSel.value = versions.indexOf(params.get("from")) >= 0 ? params.get("from") : (versions[i + 1] || current);
      toSel.value = versions.indexOf(params.get("to")) >= 0 ? params.get("to") : current;
      function compare() {
        var a = fromSel.value, b = toSel.value;
        status.textContent = "Comparing " + a + " with " + b + "…";
        target.setAttribute("aria-busy", "true");
        return Promise.all([load(base + "versions/" + a + "/policy.json"), load(base + "versions/" + b + "/policy.json")])
          .then(function (docs) {
            var result = diffPolicies(docs[0].policy, docs[1].policy);
            render(target, result, docs[0], docs[1]);
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
      compare();
    }).catch(function (err) { status.textContent = "Could not load the list of versions: " + err.message; });
  }

  window.policyDiff = diffPolicies;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
