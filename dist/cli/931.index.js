export const id = 931;
export const ids = [931];
export const modules = {

/***/ 8931:
/***/ ((__unused_webpack_module, __webpack_exports__, __webpack_require__) => {

/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   summaryRows: () => (/* binding */ summaryRows)
/* harmony export */ });
/* unused harmony exports outputsOf, mask, apply */
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(6811);
// Decision → what the runner sees: masks first, then GITHUB_ENV exports, step outputs,
// annotations and the job summary. The only module of the token step that writes anything.
// No secret is ever passed to an output, the summary or a log line.

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
function mask(secrets) {
    for (const s of secrets) {
        if (s === '')
            continue;
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
        await core.summary
            .addHeading(`Nx Cloud access: ${d.access}`, 3)
            .addRaw(`<p>${escapeHtml(d.reason)}</p>`, true)
            .addTable(summaryRows(d).map(([k, v]) => [{ data: k, header: true }, escapeHtml(v)]))
            .addList([...d.warnings, ...d.notices].map(escapeHtml))
            .write();
    }
}
function escapeHtml(s) {
    return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}


/***/ })

};
