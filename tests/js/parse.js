// Reads the .ics files named on the command line with two independent JavaScript parsers,
// ical.js (Thunderbird's) and node-ical, and prints JSON for tests/test_feeds.py:
// {"<path>": {"icaljs": [event...], "nodeical": [event...]}}, where an event is
// {uid, start, end, zones, summary, sequence}: start/end as ISO instants in UTC, zones as the
// parser read DTSTART and DTEND (ical.js says 'floating' for times without zone).
'use strict';

const fs = require('fs');
// The package's CommonJS build exports the namespace itself; a path import gives {default}.
const icalModule = require('ical.js');
const ICAL = icalModule.default || icalModule;
const nodeIcal = require('node-ical');

function withIcalJs(text) {
  const calendar = new ICAL.Component(ICAL.parse(text));
  if (calendar.name !== 'vcalendar') {
    throw new Error(`ical.js: top component is ${calendar.name}`);
  }
  return calendar.getAllSubcomponents('vevent').map((component) => {
    const event = new ICAL.Event(component);
    return {
      uid: event.uid,
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      // 'UTC' for ...Z times; 'floating' would mean the client reads them in its own zone
      zones: [event.startDate.zone.tzid, event.endDate.zone.tzid],
      summary: event.summary,
      sequence: event.sequence,
    };
  });
}

function withNodeIcal(text) {
  // node-ical keys its result by UID (duplicates collapse), so the test compares counts.
  return Object.values(nodeIcal.sync.parseICS(text))
    .filter((item) => item.type === 'VEVENT')
    .map((event) => ({
      uid: event.uid,
      start: event.start.toISOString(),
      end: event.end.toISOString(),
      zones: [event.start.tz || null, event.end.tz || null],
      summary: event.summary,
      sequence: event.sequence === undefined ? null : Number(event.sequence),
    }));
}

const result = {};
for (const path of process.argv.slice(2)) {
  const text = fs.readFileSync(path, 'utf8');
  result[path] = { icaljs: withIcalJs(text), nodeical: withNodeIcal(text) };
}
process.stdout.write(JSON.stringify(result));
