/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { VitePWA } from 'vite-plugin-pwa';
import pkg from './package.json' with { type: 'json' };

const THEME = '#c62828';

export default defineConfig({
  base: '/',
  define: { __APP_VERSION__: JSON.stringify(pkg.version) },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
  },
  plugins: [
    VitePWA({
      strategies: 'generateSW',
      // A new version waits for the user's tap (see main.ts), never reloads a form away.
      registerType: 'prompt',
      injectRegister: false,
      // globPatterns below already precaches every icon; don't list them twice.
      includeManifestIcons: false,
      manifest: {
        id: '/',
        name: '码上安全',
        short_name: '码上安全',
        description: '多小散店铺安全监管：每周自查、网格员巡查、安全积分与排名',
        lang: 'zh-CN',
        dir: 'ltr',
        start_url: '/',
        scope: '/',
        display: 'standalone',
        orientation: 'portrait',
        theme_color: THEME,
        background_color: '#ffffff',
        icons: [
          { src: '/icon.svg', sizes: 'any', type: 'image/svg+xml', purpose: 'any' },
          { src: '/icon-192.png', sizes: '192x192', type: 'image/png', purpose: 'any' },
          { src: '/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'any' },
          { src: '/icon-maskable-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' },
        ],
      },
      workbox: {
        // The app shell. (manifest.webmanifest is added by the plugin itself.)
        globPatterns: ['**/*.{js,css,html,svg,png}'],
        // The QR decoder (the scanner's fallback where BarcodeDetector is missing) is not part of the shell:
        // it is cached the first time the scanner opens, so a first visit does not download it.
        globIgnores: ['**/jsQR-*.js'],
        runtimeCaching: [
          {
            urlPattern: /\/assets\/jsQR-[\w-]+\.js$/,
            handler: 'CacheFirst',
            options: { cacheName: 'scanner', expiration: { maxEntries: 4 } },
          },
        ],
        // Deep links (/s/S0001, /login) open offline from the precached shell ...
        navigateFallback: '/index.html',
        // ... but the server's own paths never get the shell instead of their answer.
        navigateFallbackDenylist: [/^\/sync\//, /^\/api\//],
        cleanupOutdatedCaches: true,
        // The first worker takes control of the page that installed it, so the lazily loaded
        // database chunk comes from the precache even if the signal drops during the first visit.
        // Later versions still wait for the user's tap (no skipWaiting).
        clientsClaim: true,
      },
      devOptions: { enabled: false },
    }),
  ],
  test: {
    include: ['tests/**/*.test.ts'],
    environment: 'node',
  },
});
