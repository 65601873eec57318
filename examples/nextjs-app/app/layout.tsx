import type { ReactNode } from 'react';
import './site.css';

export const metadata = { title: 'Your account — Parley Next.js example' };

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
