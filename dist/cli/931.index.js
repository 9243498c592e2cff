export const id = 931;
export const ids = [931];
export const modules = {

/***/ 8931:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   READ_ONLY_NOTE: () => (/* binding */ READ_ONLY_NOTE),
/* harmony export */   summaryRows: () => (/* binding */ summaryRows)
/* harmony export */ });
/* unused harmony exports outputsOf, mask, apply */
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6811);
// Decision → what the runner sees: masks first, then GITHUB_ENV exports, step outputs,
// annotations and the job summary. The only module of the token step that writes anything.
// No secret is ever passed to an output, the summary or a log line.


/** POLICY.md: say what becomes of a read-only run's uploads when explaining read-only. */
const READ_ONLY_NOTE = 'Read-only: what this run uploads, Nx Cloud keeps in a cache isolated to this branch; it never reaches the main branch, other pull requests or laptops.';
function outputsOf(d) {
    return {
        access: d.access,
        'token-source': d.tokenSource,
        reason: d.reason,
        encryption: d.encryption,
        setup: d.setup,
        'skip-cache': String(d.skipCache)
    };
}
/** The rows of the job summary and of the command line's explanation: never a secret. */
function summaryRows(d) {
    const f = d.facts;
    return [
        ['Setup', d.setup],
        ['Event', f.event || '(none)'],
        ['Branch', f.branch ?? `none (${f.noBranchReason})`],
        ['Trust', `${f.trusted ? 'trusted' : 'untrusted'}: ${f.trustReason}`],
        ['Access', d.access],
        ['Token source', d.tokenSource],
        ['Encryption', d.encryption],
        ['Skip cache', String(d.skipCache)],
        ['Exported', Object.keys(d.exports).join(', ') || '(nothing)']
    ];
}
const masked = new Set();
function mask(secrets) {
    for (const s of secrets) {
        if (s === '' || masked.has(s))
            continue;
        masked.add(s);
        core.setSecret(s);
        // A multi-line value is also masked line by line, so no fragment of it shows.
        if (/[\r\n]/.test(s))
            for (const line of s.split(/\r?\n|\r/))
                if (line.trim() !== '')
                    core.setSecret(line);
    }
}
async function apply(d) {
    mask(d.secrets);
    for (const [name, value] of Object.entries(d.exports))
        core.exportVariable(name, value);
    for (const [name, value] of Object.entries(outputsOf(d)))
        core.setOutput(name, value);
    for (const n of d.notices)
        core.notice(n);
    for (const w of d.warnings)
        core.warning(w);
    core.info(`nx-cloud-access: ${d.access}. ${d.reason}`);
    if (process.env.GITHUB_STEP_SUMMARY) {
        const summary = core.summary
            .addHeading(`Nx Cloud access: ${d.access}`, 3)
            .addRaw(`<p>${escapeHtml(d.reason)}</p>`, true)
            .addTable(summaryRows(d).map(([k, v]) => [{ data: k, header: true }, escapeHtml(v)]));
        const notes = [...d.warnings, ...d.notices];
        if (d.access === 'read-only' && d.exports.NX_NO_CLOUD !== 'true')
            notes.push(READ_ONLY_NOTE);
        if (notes.length > 0)
            summary.addList(notes.map(escapeHtml));
        await summary.write();
    }
}


/***/ })

};
