import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { SessionAppModule } from './fixtures/session-app/session-app.module';

describe('a Nest app with ClusterCacheModule.forRootAsync + ConfigService and a SessionCache guard', () => {
  let app: INestApplication;

  beforeAll(async () => {
    process.env.NODE_NAME = 'solo@127.0.0.1';
    process.env.SESSION_TTL = '600000';
    const moduleRef = await Test.createTestingModule({ imports: [SessionAppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await app.close();
    delete process.env.NODE_NAME;
    delete process.env.SESSION_TTL;
  });

  it('signs in, lets the guard through with the token, and signs out', async () => {
    const server = app.getHttpServer();
    const signIn = await request(server).post('/session').send({ user: 'ada' }).expect(201);
    expect(signIn.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await request(server).get('/me').set('authorization', `Bearer ${signIn.body.token}`).expect(200);
    expect(me.body).toMatchObject({ node: 'solo@127.0.0.1', session: { userId: 'ada', metadata: { via: 'solo@127.0.0.1' } } });
    expect(me.body.session.expiresAt - me.body.session.createdAt).toBe(600_000);
    expect((await request(server).delete('/session').set('authorization', `Bearer ${signIn.body.token}`).expect(200)).body).toEqual({ revoked: true });
    await request(server).get('/me').set('authorization', `Bearer ${signIn.body.token}`).expect(401);
  });

  it('refuses a request without a valid token', async () => {
    await request(app.getHttpServer()).get('/me').expect(401);
    await request(app.getHttpServer()).get('/me').set('authorization', 'Bearer forged').expect(401);
  });
});
