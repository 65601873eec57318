// widget.js: starts once, on the boot object the loader left on window.Parley.
import type { Boot } from './options.js';
import { start } from './widget.js';

const w = window as unknown as { Parley?: Boot & { ready?: boolean } };
if (w.Parley?.o && w.Parley.r && !w.Parley.ready) w.Parley = start(w.Parley);
