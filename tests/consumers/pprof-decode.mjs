// Decode a gzipped pprof profile with the npm pprof-format package and print
// what the tests compare with strobe's own counts, as JSON:
// {sampleTypes, samples: [{values, locations: [[function, file, line]...], labels}]}
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';

const profile = Profile.decode(gunzipSync(readFileSync(process.argv[2])));
const str = (i) => profile.stringTable.strings[Number(i)];
const functions = new Map(profile.function.map((f) => [String(f.id), f]));
const locations = new Map(profile.location.map((l) => [String(l.id), l]));
const out = {
  sampleTypes: profile.sampleType.map((t) => [str(t.type), str(t.unit)]),
  defaultSampleType: str(profile.defaultSampleType),
  period: String(profile.period),
  durationNanos: String(profile.durationNanos),
  samples: profile.sample.map((s) => ({
    values: s.value.map(String),
    locations: s.locationId.map((id) => {
      const loc = locations.get(String(id));
      const fn = functions.get(String(loc.line[0].functionId));
      return [str(fn.name), str(fn.filename), Number(loc.line[0].line), Number(fn.startLine)];
    }),
    labels: Object.fromEntries(s.label.map((l) => [str(l.key), l.str ? str(l.str) : String(l.num)])),
  })),
};
console.log(JSON.stringify(out));
