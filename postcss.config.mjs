/** Tailwind CSS v4 runs as a single PostCSS plugin; imports and prefixing are built in. */
const config = {
  plugins: {
    "@tailwindcss/postcss": {},
  },
};

export default config;
