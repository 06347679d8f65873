// Unit specs: *.spec.ts beside the code. SWC compiles TypeScript and the ESM-only
// @nestjs/* packages to CommonJS, which is what makes Jest work with Nest 12 on Node 20.
module.exports = {
  rootDir: '.',
  roots: ['<rootDir>/apps/', '<rootDir>/libs/'],
  testRegex: '.*\\.spec\\.ts$',
  moduleFileExtensions: ['js', 'json', 'ts'],
  transform: { '^.+\\.(t|j)s$': '@swc/jest' },
  transformIgnorePatterns: ['/node_modules/(?!@nestjs/)'],
  // `@app/cluster-cache/<entry>` is `nest-cluster-cache/<entry>` of the package; the stores' entries sit in adapters/.
  moduleNameMapper: {
    '^@app/cluster-cache/(express-session|fastify-session|keyv)$': '<rootDir>/libs/cluster-cache/src/adapters/$1',
    '^@app/cluster-cache(|/.*)$': '<rootDir>/libs/cluster-cache/src$1',
  },
  testEnvironment: 'node',
};
