// oidc-provider ships no type declarations; the OIDC test drives it through a small surface.
declare module 'oidc-provider';
