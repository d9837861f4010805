// snntb gui: the settings form (built from /api/schema), the run view
// (fed by /api/run/events) and the results view (/api/runs).  Every POST
// carries the token from the URL that `snntb gui` printed.
'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  var schema = null;   // [{name, keys: [...]}]
  var rows = {};       // "section.key" -> {spec, input, row, err}
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function api(method, path, body) {
    var opts = {method: method, headers: {'X-Snntb-Token': token}};
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    return fetch('/api/' + path, opts).then(function (r) {
      return r.json().then(function (j) {
        if (!r.ok) throw new Error(j.error || ('HTTP ' + r.status));
        return j;
      });
    });
  }

  function status(id, text, good) {
    var s = $(id);
    s.textContent = text;
    s.className = 'status ' + (good === undefined ? '' : good ? 'good' : 'bad');
  }

  function fatal(msg) {
    $('fatal').hidden = false;
    $('fatal').textContent = msg;
  }

  // ---- tabs ----
  document.querySelectorAll('nav .tab').forEach(function (b) {
    b.addEventListener('click', function () { showTab(b.dataset.tab); });
  });
  function showTab(name) {
    document.querySelectorAll('nav .tab').forEach(function (b) {
      b.classList.toggle('active', b.dataset.tab === name);
    });
    document.querySelectorAll('.panel').forEach(function (p) { p.hidden = p.id !== name; });
    if (name === 'results') loadRuns();
  }

  // ---- settings ----
  function inputFor(spec) {
    var choices = spec.kind === 'bool' ? ['True', 'False'] :
                  spec.kind === 'choice' ? spec.choices : null;
    if (choices) {
      var s = el('select');
      if (spec.empty_ok) s.appendChild(el('option', {value: ''}, '(empty)'));
      choices.forEach(function (c) { s.appendChild(el('option', {value: c}, c)); });
      return s;
    }
    if (spec.default.indexOf('\n') >= 0) return el('textarea', {rows: 4});
    return el('input', {type: 'text', spellcheck: 'false'});
  }

  function note(spec) {
    var parts = ['default: ' + (spec.default === '' ? '(empty)' : spec.default.replace(/\n/g, ' '))];
    if (spec.rule) parts.push(spec.rule);
    if (spec.kind === 'name_set') parts.push('items among ' + spec.choices.join(', '));
    else parts.push(spec.kind);
    return parts.join(' · ');
  }

  function setValue(r, v) {
    if (r.input.tagName === 'SELECT' && ![].some.call(r.input.options, function (o) { return o.value === v; }))
      r.input.appendChild(el('option', {value: v}, v));   // e.g. 'true' for a bool
    r.input.value = v;
    markChanged(r);
    markError(r, '');
  }

  function markChanged(r) {
    r.row.classList.toggle('changed', r.input.value !== r.spec.default);
  }

  function markError(r, msg) {
    r.row.classList.toggle('invalid', !!msg);
    r.err.textContent = msg;
  }

  var timers = {};
  function validateSoon(id) {
    clearTimeout(timers[id]);
    timers[id] = setTimeout(function () { validate(id); }, 200);
  }
  function validate(id) {
    var r = rows[id];
    var sent = r.input.value;
    return api('POST', 'validate', {section: r.section, key: r.spec.key, value: sent})
      .then(function (j) {
        if (r.input.value === sent) markError(r, j.ok ? '' : j.error);
      }).catch(function (e) { markError(r, e.message); });
  }

  function buildForm(sections) {
    var root = $('sections');
    root.textContent = '';
    sections.forEach(function (sec) {
      var fs = el('fieldset', {id: 'sec-' + sec.name});
      fs.appendChild(el('legend', {}, '[' + sec.name + ']'));
      sec.keys.forEach(function (spec) {
        var id = sec.name + '.' + spec.key;
        var row = el('div', {'class': 'row', id: 'row-' + sec.name + '-' + spec.key});
        var label = el('label', {'for': 'in-' + sec.name + '-' + spec.key, title: spec.tooltip}, spec.key);
        var help = el('span', {'class': 'help', title: spec.tooltip}, '?');
        var cell = el('div');
        var input = inputFor(spec);
        input.id = 'in-' + sec.name + '-' + spec.key;
        input.title = spec.tooltip;
        var err = el('div', {'class': 'err'});
        cell.appendChild(input);
        cell.appendChild(err);
        var left = el('div');
        left.appendChild(label);
        left.appendChild(help);
        row.appendChild(left);
        row.appendChild(cell);
        row.appendChild(el('div', {'class': 'note'}, note(spec)));
        fs.appendChild(row);
        rows[id] = {spec: spec, section: sec.name, input: input, row: row, err: err};
        input.addEventListener('input', function () { markChanged(rows[id]); validateSoon(id); });
        input.addEventListener('change', function () { markChanged(rows[id]); validateSoon(id); });
      });
      root.appendChild(fs);
    });
  }

  function fill(values) {
    Object.keys(rows).forEach(function (id) {
      var r = rows[id];
      var v = (values[r.section] || {})[r.spec.key];
      setValue(r, v === undefined ? r.spec.default : v);
    });
  }

  function collect() {
    var out = {};
    Object.keys(rows).forEach(function (id) {
      var r = rows[id];
      (out[r.section] = out[r.section] || {})[r.spec.key] = r.input.value;
    });
    return out;
  }

  function invalidCount() {
    return Object.keys(rows).filter(function (id) { return rows[id].row.classList.contains('invalid'); }).length;
  }

  function saveSettings() {
    status('settings-status', 'checking...');
    return Promise.all(Object.keys(rows).map(validate)).then(function () {
      var bad = invalidCount();
      if (bad) throw new Error(bad + ' invalid value(s): fix the fields marked in red');
      return api('POST', 'settings', {values: collect()});
    }).then(function (j) {
      fill(j.values);
      status('settings-status', 'saved (kept in ' + j.settings_file + ')', true);
      return true;
    }).catch(function (e) { status('settings-status', 'not saved: ' + e.message, false); return false; });
  }

  function loadConfigList() {
    return api('GET', 'configs').then(function (j) {
      var s = $('config-list');
      s.textContent = '';
      j.configs.forEach(function (c) { s.appendChild(el('option', {value: c}, c)); });
    });
  }

  $('save-settings').addEventListener('click', saveSettings);
  $('reset-defaults').addEventListener('click', function () {
    fill({});
    status('settings-status', 'defaults shown: save to keep them');
  });
  $('load-config').addEventListener('click', function () {
    var path = $('config-list').value;
    if (!path) return;
    api('POST', 'config/load', {path: path}).then(function (j) {
      fill(j.values);
      status('settings-status', 'loaded ' + path, true);
    }).catch(function (e) { status('settings-status', 'cannot load: ' + e.message, false); });
  });
  $('save-config').addEventListener('click', function () {
    var path = $('save-path').value.trim();
    if (!path) { status('settings-status', 'name the file to save', false); return; }
    saveSettings().then(function (ok) {
      if (!ok) return;
      var send = function (overwrite) {
        return api('POST', 'config/save', {path: path, overwrite: overwrite});
      };
      send(false).catch(function (e) {
        if (/exists/.test(e.message) && confirm(e.message)) return send(true);
        throw e;
      }).then(function (j) {
        if (j) status('settings-status', 'saved ' + j.path, true);
        loadConfigList();
      }).catch(function (e) { status('settings-status', 'cannot save: ' + e.message, false); });
    });
  });

  // ---- run ----
  function pct(x) { return (100 * x).toFixed(2) + ' %'; }
  function secs(s) {
    if (s < 0) return '?';
    return s < 90 ? s.toFixed(1) + ' s' : (s / 60).toFixed(1) + ' min';
  }

  var shownVersion = -1;
  function showRun(s) {
    if (s.version < shownVersion) return;
    shownVersion = s.version;
    $('run-state').textContent = s.state + (s.stop_asked && s.state === 'running' ? ' (stopping)' : '');
    // Normalization and conversion report no progress of their own.
    var between = s.state === 'running' && s.stage === 'ANN' && s.total && s.done === s.total;
    $('run-stage').textContent = s.state === 'idle' ? '' :
      between ? 'ANN tested; normalizing and converting' : s.stage;
    $('run-bar').value = s.total ? s.done / s.total : 0;
    $('run-count').textContent = s.total ? s.done + ' / ' + s.total + ' samples' : '';
    $('run-accuracy').textContent = s.done ? pct(s.accuracy) + ' (' + s.correct + ' correct)' : '';
    $('run-time').textContent = s.state === 'idle' ? '' : secs(s.elapsed_s) + (s.state === 'running' ? ' / ETA ' + secs(s.eta_s) : '');
    $('run-log').textContent = s.log.join('\n');
    if (s.state !== 'running') status('run-message', '');
    $('run-start').disabled = s.state === 'running';
    $('run-stop').disabled = s.state !== 'running' || s.stop_asked;
    $('run-error').hidden = !s.error;
    $('run-error').textContent = s.error ? 'The run ' + (s.state === 'stopped' ? 'was stopped: ' : 'failed: ') + s.error : '';
    var res = s.results;
    $('run-results').hidden = !res;
    if (res) {
      var t = $('run-results-table');
      t.textContent = '';
      var add = function (k, v) {
        var tr = el('tr');
        tr.appendChild(el('th', {}, k));
        tr.appendChild(el('td', {}, v));
        t.appendChild(tr);
      };
      add('samples', String(res.num_samples));
      if (res.ann_evaluated) add('ANN accuracy', pct(res.ann_top1));
      if (res.simulated) add('SNN accuracy', pct(res.snn_top1));
      if (res.simulated) add('synaptic ops / sample', res.synops_per_sample.toPrecision(4));
      add('wall time', secs(res.wall_seconds));
      add('log folder', s.log_dir);
    }
  }

  function follow() {
    var es = new EventSource('/api/run/events');
    es.onmessage = function (ev) { showRun(JSON.parse(ev.data)); };
  }

  $('run-start').addEventListener('click', function () {
    status('run-message', 'saving settings...');
    saveSettings().then(function (ok) {
      if (!ok) { status('run-message', 'fix the settings first', false); return; }
      return api('POST', 'run', {}).then(function (s) {
        showRun(s);
        status('run-message', 'started', true);
      });
    }).catch(function (e) { status('run-message', e.message, false); });
  });
  $('run-stop').addEventListener('click', function () {
    api('POST', 'run/stop', {}).then(showRun).catch(function (e) { status('run-message', e.message, false); });
  });

  // ---- results ----
  var LAYER_PLOT = /^(\d\d[A-Za-z0-9]+_[0-9x]+)_(.+)\.svg$/;
  var COMPARE = ['activations', 'spikerates', 'spikerates_minus_activations', 'correlation'];

  function loadRuns() {
    api('GET', 'runs').then(function (j) {
      var t = $('runs-table');
      t.textContent = '';
      var head = el('tr');
      ['run', 'date', 'samples', 'ANN', 'SNN', ''].forEach(function (h, i) {
        head.appendChild(el('th', {'class': i < 2 ? 'l' : ''}, h));
      });
      t.appendChild(head);
      j.runs.forEach(function (run) {
        var r = run.results || {};
        var tr = el('tr', {id: 'runrow-' + run.label});
        tr.appendChild(el('td', {'class': 'l'}, run.label));
        tr.appendChild(el('td', {'class': 'l'}, new Date(run.mtime * 1000).toLocaleString()));
        tr.appendChild(el('td', {}, r.num_samples === undefined ? '' : String(r.num_samples)));
        // results.json has null for a stage that did not run.
        tr.appendChild(el('td', {}, typeof r.ann_top1 === 'number' ? pct(r.ann_top1) : '—'));
        tr.appendChild(el('td', {}, typeof r.snn_top1 === 'number' ? pct(r.snn_top1) : '—'));
        var td = el('td');
        var b = el('button', {'class': 'open-run'}, run.report ? 'plots' : 'details');
        b.addEventListener('click', function () { openRun(run.label); });
        td.appendChild(b);
        tr.appendChild(td);
        t.appendChild(tr);
      });
    }).catch(function (e) { fatal(e.message); });
  }

  function img(run, name) {
    return el('img', {src: '/files/' + run.path + '/report/plots/' + encodeURIComponent(name), alt: name, title: name});
  }

  function openRun(label) {
    api('GET', 'runs/' + encodeURIComponent(label)).then(function (run) {
      document.querySelectorAll('#runs-table tr').forEach(function (tr) {
        tr.classList.toggle('selected', tr.id === 'runrow-' + label);
      });
      $('run-detail').hidden = false;
      $('detail-title').textContent = 'Run ' + label;
      $('detail-report').href = '/files/' + run.path + '/report/index.html';
      $('detail-report').hidden = !run.report;
      var layers = {}, order = [], whole = $('detail-whole');
      whole.textContent = '';
      (run.plots || []).forEach(function (name) {
        var m = LAYER_PLOT.exec(name);
        if (!m) { whole.appendChild(img(run, name)); return; }
        if (!layers[m[1]]) { layers[m[1]] = []; order.push(m[1]); }
        layers[m[1]].push({name: name, what: m[2]});
      });
      var picker = $('layer-picker');
      picker.textContent = '';
      order.forEach(function (layer, i) {
        var lab = el('label');
        var cb = el('input', {type: 'checkbox', value: layer, 'class': 'layer-pick'});
        cb.checked = i === 0;
        cb.addEventListener('change', function () { drawColumns(run, layers); });
        lab.appendChild(cb);
        lab.appendChild(document.createTextNode(' ' + layer));
        picker.appendChild(lab);
      });
      if (!order.length) picker.textContent = run.report ? 'no per-layer plots' : 'this run has no plots: set [output] plot_vars';
      drawColumns(run, layers);
    }).catch(function (e) { fatal(e.message); });
  }

  function drawColumns(run, layers) {
    var cols = $('layer-columns');
    var only = $('only-compare').checked;
    cols.textContent = '';
    document.querySelectorAll('.layer-pick').forEach(function (cb) {
      if (!cb.checked) return;
      var col = el('div', {'class': 'col', 'data-layer': cb.value});
      col.appendChild(el('h4', {}, cb.value));
      layers[cb.value].forEach(function (p) {
        if (!only || COMPARE.indexOf(p.what) >= 0) col.appendChild(img(run, p.name));
      });
      cols.appendChild(col);
    });
    $('only-compare').onchange = function () { drawColumns(run, layers); };
  }

  // ---- start ----
  if (!token) {
    fatal('No token in the address: open the URL that `snntb gui` printed.');
    return;
  }
  Promise.all([api('GET', 'schema'), api('GET', 'settings')]).then(function (res) {
    schema = res[0].sections;
    $('wd').textContent = res[1].wd;
    buildForm(schema);
    fill(res[1].values);
    follow();
    return loadConfigList();
  }).catch(function (e) { fatal('Cannot reach the snntb server: ' + e.message); });
})();
