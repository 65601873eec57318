import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

export default defineProject({
  ...shared,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  define: { __WIDGET_FILE__: JSON.stringify('widget.js') },
  test: {
    name: 'widget',
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
    environmentOptions: { happyDOM: { settings: { handleDisabledFileLoadingAsSuccess: true } } },
  },
});
