export const id = 712;
export const ids = [712];
export const modules = {

/***/ 2712:
/***/ ((__unused_webpack___webpack_module__, __webpack_exports__, __webpack_require__) => {

__webpack_require__.r(__webpack_exports__);
/* harmony export */ __webpack_require__.d(__webpack_exports__, {
/* harmony export */   createTar: () => (/* binding */ createTar),
/* harmony export */   extractTar: () => (/* binding */ extractTar),
/* harmony export */   listTar: () => (/* binding */ listTar)
/* harmony export */ });
/* harmony import */ var _actions_core__WEBPACK_IMPORTED_MODULE_0__ = __webpack_require__(4477);
/* harmony import */ var _actions_exec__WEBPACK_IMPORTED_MODULE_1__ = __webpack_require__(1955);
/* harmony import */ var _actions_io__WEBPACK_IMPORTED_MODULE_2__ = __webpack_require__(8701);
/* harmony import */ var fs__WEBPACK_IMPORTED_MODULE_3__ = __webpack_require__(9896);
/* harmony import */ var path__WEBPACK_IMPORTED_MODULE_4__ = __webpack_require__(6928);
/* harmony import */ var _cacheUtils_js__WEBPACK_IMPORTED_MODULE_5__ = __webpack_require__(6378);
/* harmony import */ var _constants_js__WEBPACK_IMPORTED_MODULE_6__ = __webpack_require__(242);
var __awaiter = (undefined && undefined.__awaiter) || function (thisArg, _arguments, P, generator) {
    function adopt(value) { return value instanceof P ? value : new P(function (resolve) { resolve(value); }); }
    return new (P || (P = Promise))(function (resolve, reject) {
        function fulfilled(value) { try { step(generator.next(value)); } catch (e) { reject(e); } }
        function rejected(value) { try { step(generator["throw"](value)); } catch (e) { reject(e); } }
        function step(result) { result.done ? resolve(result.value) : adopt(result.value).then(fulfilled, rejected); }
        step((generator = generator.apply(thisArg, _arguments || [])).next());
    });
};







const IS_WINDOWS = process.platform === 'win32';
// Returns tar path and type: BSD or GNU
function getTarPath() {
    return __awaiter(this, void 0, void 0, function* () {
        switch (process.platform) {
            case 'win32': {
                const gnuTar = yield _cacheUtils_js__WEBPACK_IMPORTED_MODULE_5__.getGnuTarPathOnWindows();
                const systemTar = _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .SystemTarPathOnWindows */ .Is;
                if (gnuTar) {
                    // Use GNUtar as default on windows
                    return { path: gnuTar, type: _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.GNU };
                }
                else if ((0,fs__WEBPACK_IMPORTED_MODULE_3__.existsSync)(systemTar)) {
                    return { path: systemTar, type: _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.BSD };
                }
                break;
            }
            case 'darwin': {
                const gnuTar = yield _actions_io__WEBPACK_IMPORTED_MODULE_2__/* .which */ .K7('gtar', false);
                if (gnuTar) {
                    // fix permission denied errors when extracting BSD tar archive with GNU tar - https://github.com/actions/cache/issues/527
                    return { path: gnuTar, type: _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.GNU };
                }
                else {
                    return {
                        path: yield _actions_io__WEBPACK_IMPORTED_MODULE_2__/* .which */ .K7('tar', true),
                        type: _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.BSD
                    };
                }
            }
            default:
                break;
        }
        // Default assumption is GNU tar is present in path
        return {
            path: yield _actions_io__WEBPACK_IMPORTED_MODULE_2__/* .which */ .K7('tar', true),
            type: _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.GNU
        };
    });
}
// Return arguments for tar as per tarPath, compressionMethod, method type and os
function getTarArgs(tarPath_1, compressionMethod_1, type_1) {
    return __awaiter(this, arguments, void 0, function* (tarPath, compressionMethod, type, archivePath = '') {
        const args = [`"${tarPath.path}"`];
        const cacheFileName = _cacheUtils_js__WEBPACK_IMPORTED_MODULE_5__.getCacheFileName(compressionMethod);
        const tarFile = 'cache.tar';
        const workingDirectory = getWorkingDirectory();
        // Speficic args for BSD tar on windows for workaround
        const BSD_TAR_ZSTD = tarPath.type === _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.BSD &&
            compressionMethod !== _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.Gzip &&
            IS_WINDOWS;
        // Method specific args
        switch (type) {
            case 'create':
                args.push('--posix', '-cf', BSD_TAR_ZSTD
                    ? tarFile
                    : cacheFileName.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'), '--exclude', BSD_TAR_ZSTD
                    ? tarFile
                    : cacheFileName.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'), '-P', '-C', workingDirectory.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'), '--files-from', _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ManifestFilename */ .FY);
                break;
            case 'extract':
                args.push('-xf', BSD_TAR_ZSTD
                    ? tarFile
                    : archivePath.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'), '-P', '-C', BSD_TAR_ZSTD
                    ? quoteAbsolutePath(workingDirectory)
                    : workingDirectory.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'));
                break;
            case 'list':
                args.push('-tf', BSD_TAR_ZSTD
                    ? tarFile
                    : archivePath.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'), '-P');
                break;
        }
        // Platform specific args
        if (tarPath.type === _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.GNU) {
            switch (process.platform) {
                case 'win32':
                    args.push('--force-local');
                    break;
                case 'darwin':
                    args.push('--delay-directory-restore');
                    break;
            }
        }
        return args;
    });
}
// Returns commands to run tar and compression program
function getCommands(compressionMethod_1, type_1) {
    return __awaiter(this, arguments, void 0, function* (compressionMethod, type, archivePath = '') {
        let args;
        const tarPath = yield getTarPath();
        const tarArgs = yield getTarArgs(tarPath, compressionMethod, type, archivePath);
        const compressionArgs = type !== 'create'
            ? yield getDecompressionProgram(tarPath, compressionMethod, archivePath)
            : yield getCompressionProgram(tarPath, compressionMethod);
        const BSD_TAR_ZSTD = tarPath.type === _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.BSD &&
            compressionMethod !== _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.Gzip &&
            IS_WINDOWS;
        if (BSD_TAR_ZSTD && type !== 'create') {
            args = [[...compressionArgs].join(' '), [...tarArgs].join(' ')];
        }
        else {
            args = [[...tarArgs].join(' '), [...compressionArgs].join(' ')];
        }
        return {
            commands: BSD_TAR_ZSTD ? args : [args.join(' ')],
            requiresTempDirectory: BSD_TAR_ZSTD && type !== 'create'
        };
    });
}
function getWorkingDirectory() {
    var _a;
    return (_a = process.env['GITHUB_WORKSPACE']) !== null && _a !== void 0 ? _a : process.cwd();
}
function quoteAbsolutePath(filePath) {
    return `"${path__WEBPACK_IMPORTED_MODULE_4__.resolve(filePath).replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/')}"`;
}
// Common function for extractTar and listTar to get the compression method
function getDecompressionProgram(tarPath, compressionMethod, archivePath) {
    return __awaiter(this, void 0, void 0, function* () {
        // -d: Decompress.
        // unzstd is equivalent to 'zstd -d'
        // --long=#: Enables long distance matching with # bits. Maximum is 30 (1GB) on 32-bit OS and 31 (2GB) on 64-bit.
        // Using 30 here because we also support 32-bit self-hosted runners.
        const BSD_TAR_ZSTD = tarPath.type === _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.BSD &&
            compressionMethod !== _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.Gzip &&
            IS_WINDOWS;
        switch (compressionMethod) {
            case _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.Zstd:
                return BSD_TAR_ZSTD
                    ? [
                        'zstd -d --long=30 --force -o',
                        _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .TarFilename */ .ZW,
                        quoteAbsolutePath(archivePath)
                    ]
                    : [
                        '--use-compress-program',
                        IS_WINDOWS ? '"zstd -d --long=30"' : 'unzstd --long=30'
                    ];
            case _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.ZstdWithoutLong:
                return BSD_TAR_ZSTD
                    ? ['zstd -d --force -o', _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .TarFilename */ .ZW, quoteAbsolutePath(archivePath)]
                    : ['--use-compress-program', IS_WINDOWS ? '"zstd -d"' : 'unzstd'];
            default:
                return ['-z'];
        }
    });
}
// Used for creating the archive
// -T#: Compress using # working thread. If # is 0, attempt to detect and use the number of physical CPU cores.
// zstdmt is equivalent to 'zstd -T0'
// --long=#: Enables long distance matching with # bits. Maximum is 30 (1GB) on 32-bit OS and 31 (2GB) on 64-bit.
// Using 30 here because we also support 32-bit self-hosted runners.
// Long range mode is added to zstd in v1.3.2 release, so we will not use --long in older version of zstd.
function getCompressionProgram(tarPath, compressionMethod) {
    return __awaiter(this, void 0, void 0, function* () {
        const cacheFileName = _cacheUtils_js__WEBPACK_IMPORTED_MODULE_5__.getCacheFileName(compressionMethod);
        const BSD_TAR_ZSTD = tarPath.type === _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ArchiveToolType */ .NH.BSD &&
            compressionMethod !== _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.Gzip &&
            IS_WINDOWS;
        switch (compressionMethod) {
            case _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.Zstd:
                return BSD_TAR_ZSTD
                    ? [
                        'zstd -T0 --long=30 --force -o',
                        cacheFileName.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'),
                        _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .TarFilename */ .ZW
                    ]
                    : [
                        '--use-compress-program',
                        IS_WINDOWS ? '"zstd -T0 --long=30"' : 'zstdmt --long=30'
                    ];
            case _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .CompressionMethod */ .sn.ZstdWithoutLong:
                return BSD_TAR_ZSTD
                    ? [
                        'zstd -T0 --force -o',
                        cacheFileName.replace(new RegExp(`\\${path__WEBPACK_IMPORTED_MODULE_4__.sep}`, 'g'), '/'),
                        _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .TarFilename */ .ZW
                    ]
                    : ['--use-compress-program', IS_WINDOWS ? '"zstd -T0"' : 'zstdmt'];
            default:
                return ['-z'];
        }
    });
}
// Executes all commands as separate processes
function execCommands(commands, cwd) {
    return __awaiter(this, void 0, void 0, function* () {
        for (const command of commands) {
            try {
                yield (0,_actions_exec__WEBPACK_IMPORTED_MODULE_1__/* .exec */ .m)(command, undefined, {
                    cwd,
                    env: Object.assign(Object.assign({}, process.env), { MSYS: 'winsymlinks:nativestrict' })
                });
            }
            catch (error) {
                throw new Error(`${command.split(' ')[0]} failed with error: ${error === null || error === void 0 ? void 0 : error.message}`);
            }
        }
    });
}
function execReadCommands(archivePath, compressionMethod, type) {
    return __awaiter(this, void 0, void 0, function* () {
        const { commands, requiresTempDirectory } = yield getCommands(compressionMethod, type, archivePath);
        // The Windows BSD-tar fallback decompresses into cache.tar before reading
        // it. Isolate that intermediate for each list/extract operation, including
        // debug listings during saves.
        const tempDirectory = requiresTempDirectory
            ? yield _cacheUtils_js__WEBPACK_IMPORTED_MODULE_5__.createTempDirectory()
            : undefined;
        try {
            yield execCommands(commands, tempDirectory);
        }
        finally {
            if (tempDirectory) {
                try {
                    yield _actions_io__WEBPACK_IMPORTED_MODULE_2__/* .rmRF */ .Yz(tempDirectory);
                }
                catch (error) {
                    _actions_core__WEBPACK_IMPORTED_MODULE_0__/* .debug */ .Yz(`Failed to delete temporary tar directory: ${error}`);
                }
            }
        }
    });
}
// List the contents of a tar
function listTar(archivePath, compressionMethod) {
    return __awaiter(this, void 0, void 0, function* () {
        yield execReadCommands(archivePath, compressionMethod, 'list');
    });
}
// Extract a tar
function extractTar(archivePath, compressionMethod) {
    return __awaiter(this, void 0, void 0, function* () {
        // Create directory to extract tar into
        const workingDirectory = getWorkingDirectory();
        yield _actions_io__WEBPACK_IMPORTED_MODULE_2__/* .mkdirP */ .U$(workingDirectory);
        yield execReadCommands(archivePath, compressionMethod, 'extract');
    });
}
// Create a tar
function createTar(archiveFolder, sourceDirectories, compressionMethod) {
    return __awaiter(this, void 0, void 0, function* () {
        // Write source directories to manifest.txt to avoid command length limits
        (0,fs__WEBPACK_IMPORTED_MODULE_3__.writeFileSync)(path__WEBPACK_IMPORTED_MODULE_4__.join(archiveFolder, _constants_js__WEBPACK_IMPORTED_MODULE_6__/* .ManifestFilename */ .FY), sourceDirectories.join('\n'));
        const { commands } = yield getCommands(compressionMethod, 'create');
        yield execCommands(commands, archiveFolder);
    });
}
//# sourceMappingURL=tar.js.map

/***/ })

};
