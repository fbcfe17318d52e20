// Independent C2PA reader for ReelGuard's tests: for each file, one JSON line describing its
// manifest as @trustnxt/c2pa-ts (pure TypeScript, no c2pa-rs inside) sees it.
// Usage: node read.mjs FILE...
import * as fs from 'node:fs/promises';
import { BMFF } from '@trustnxt/c2pa-ts/asset';
import { SuperBox } from '@trustnxt/c2pa-ts/jumbf';
import { ManifestStore, ValidationResult } from '@trustnxt/c2pa-ts/manifest';

// c2pa-ts ships with HEIF brands only; MP4 / MOV files written by FFmpeg or PyAV use these.
for (const brand of ['isom', 'iso2', 'iso4', 'iso5', 'iso6', 'mp41', 'mp42', 'avc1', 'M4V ', 'qt  ']) {
    BMFF.canReadBrands.add(brand);
}

async function read(path) {
    const out = { manifest: false, valid: false, failures: [], active_label: null, assertions: [], ingredients: [],
                  manifests: [], error: null };
    try {
        const buf = new Uint8Array(await fs.readFile(path));
        if (!BMFF.canRead(buf)) throw new Error('not a readable BMFF file');
        const asset = new BMFF(buf);
        const jumbf = asset.getManifestJUMBF();
        if (!jumbf) return out;
        out.manifest = true;
        let result;
        try {
            const store = ManifestStore.read(SuperBox.fromBuffer(jumbf));
            const active = store.getActiveManifest();
            out.active_label = active?.label ?? null;
            out.assertions = (active?.assertions?.assertions ?? []).map((a) => a.label ?? null);
            out.manifests = store.manifests.map((m) => m.label ?? null);
            // ingredients: what the reference chain looks like to an independent reader
            out.ingredients = (active?.assertions?.assertions ?? [])
                .filter((a) => (a.label ?? '').startsWith('c2pa.ingredient'))
                .map((a) => ({ label: a.label, title: a.title ?? null, relationship: a.relationship ?? null,
                               active_manifest: (a.activeManifest ?? a.c2pa_manifest)?.uri ?? null }));
            result = await store.validate(asset);
        } catch (e) {
            result = ValidationResult.fromError(e);
        }
        out.valid = result.isValid;
        out.failures = result.statusEntries.filter((s) => !s.success).map((s) => s.code);
    } catch (e) {
        out.error = String(e?.message ?? e);
    }
    return out;
}

for (const path of process.argv.slice(2)) {
    process.stdout.write(JSON.stringify({ path, ...(await read(path)) }) + '\n');
}
