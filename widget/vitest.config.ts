import { defineProject } from 'vitest/config';
import { shared } from '../vitest.shared.js';

export default defineProject({
  ...shared,
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  define: { __WIDGET_FILE__: JSON.stringify('widget.js'), __LOCALES__: '{}' },
  test: {
    name: 'widget',
    include: ['src/**/*.test.{ts,tsx}'],
    environment: 'happy-dom',
    setupFiles: ['src/test/locales.ts'],
    environmentOptions: { happyDOM: { settings: { handleDisabledFileLoadingAsSuccess: true } } },
  },
});
