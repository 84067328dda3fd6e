PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
INSERT INTO schema_migrations VALUES(1,'0001_read_models.sql','2026-12-03T13:18:22.506678663Z');
INSERT INTO schema_migrations VALUES(2,'0002_snapshots.sql','2026-12-03T13:18:22.506944212Z');
INSERT INTO schema_migrations VALUES(3,'0003_actor_token_ids.sql','2026-12-03T13:18:22.507575878Z');
INSERT INTO schema_migrations VALUES(4,'0004_figure_control.sql','2026-12-03T13:18:22.519530207Z');
INSERT INTO schema_migrations VALUES(5,'0005_year_change_tokens.sql','2026-12-03T13:18:22.520073363Z');
INSERT INTO schema_migrations VALUES(6,'0006_units.sql','2026-12-03T13:18:22.520651956Z');
CREATE TABLE checkpoints (
    projection       TEXT PRIMARY KEY,
    position         INTEGER NOT NULL,
    last_recorded_at TEXT,
    updated_at       TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO checkpoints VALUES('readmodels',34,'2023-03-01T04:00:04.000000000Z','2022-12-20T01:00:00.000000000Z');
CREATE TABLE chain_heads (
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        INTEGER NOT NULL,
    hash           TEXT NOT NULL,
    position       INTEGER NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
) WITHOUT ROWID;
INSERT INTO chain_heads VALUES('indicator','accidents',3,'c526435a8bf6780feb196fcf972bb9b388d751379651b00bc9dbdc330225b16f',21);
INSERT INTO chain_heads VALUES('indicator','accidents-2021',2,'fdb63cfc9019f6f116e23f819b985e3cf0aa40a836a1cfbf13ee132e207c8f58',3);
INSERT INTO chain_heads VALUES('indicator','deaths',3,'7456b5c4e881c2b3108e77de2bd566cce7784dbb5e9eed7505b762e57f1f5342',22);
INSERT INTO chain_heads VALUES('indicator','demolition',3,'bdaf2214b2f229273e5ecabfa060b546eefd3688aae921473874879c95f51b76',23);
INSERT INTO chain_heads VALUES('indicator','dustfall',3,'96b24ec69aa6b4c175601f85486273d339278a7a0aff509b488e0099d15ba859',25);
INSERT INTO chain_heads VALUES('indicator','ghost',1,'82de974f7f68a2c4c751846e3b9681303b52a4f0d639de85412a35de7dc07a7f',31);
INSERT INTO chain_heads VALUES('indicator','hitech-firms',5,'3ad675b27fe351ada52e7abea6be4d68602fac2595b051f9e5c6a4fa32f2648f',30);
INSERT INTO chain_heads VALUES('indicator','upgraded-firms',3,'64f1d1d830fbb4b73c915fdd85818a75210a064760d77fa5adcd31ef40b2adec',24);
INSERT INTO chain_heads VALUES('task','hills',3,'a3590f53af3f837f86b967f725906a36f2fb8a6384fbe3b7f7948eee88331c04',26);
INSERT INTO chain_heads VALUES('task','hitech',4,'e16fc0dc866dffa2249ab263369ceae5846a0a6e5f1bfa27ecbe564d5f1b5f20',33);
INSERT INTO chain_heads VALUES('task','safety',1,'006b51ae5f4750408d94f6739086d7e881ae21a2c3963f589c621afaca3a0d7e',12);
INSERT INTO chain_heads VALUES('task','safety-2021',1,'ef484adff5f5219e35fe06aa0a4e8b744edf55fff6c60b63113773db70ea9d31',1);
INSERT INTO chain_heads VALUES('task','upgrade',1,'1d251c4454f5f3246d5ba2ed39bb73bf4c8aab379004d8c5d480ad282e348260',7);
CREATE TABLE events_log (
    position          INTEGER NOT NULL,
    idx               INTEGER NOT NULL,
    event_id          TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    schema_version    INTEGER NOT NULL,
    aggregate_type    TEXT NOT NULL,
    aggregate_id      TEXT NOT NULL,
    aggregate_version INTEGER NOT NULL,
    recorded_at       TEXT NOT NULL,
    actor             TEXT NOT NULL,
    command_id        TEXT NOT NULL,
    correlation_id    TEXT,
    causation_id      TEXT,
    source            TEXT NOT NULL,
    payload           TEXT NOT NULL,
    hash              TEXT NOT NULL,
    prev_hash         TEXT NOT NULL, actor_token_id TEXT,
    PRIMARY KEY (position, idx)
) WITHOUT ROWID;
INSERT INTO events_log VALUES(1,0,'0190a000-0000-7000-8000-000000000001','task.registered',1,'task','safety-2021',1,'2021-12-10T04:00:01.000000000Z','office:区政府督查室','cmd-1',NULL,NULL,'test','{"year":2021,"dimension":"高效率 落实","title":"安全生产","lead_department":"区应急局"}','ef484adff5f5219e35fe06aa0a4e8b744edf55fff6c60b63113773db70ea9d31','',NULL);
INSERT INTO events_log VALUES(2,0,'0190a000-0000-7000-8000-000000000002','indicator.defined',1,'indicator','accidents-2021',1,'2021-12-10T04:00:02.000000000Z','office:区政府督查室','cmd-2',NULL,NULL,'test','{"task_id":"safety-2021","year":2021,"key":"生产安全事故起数","name":"生产安全事故起数","unit":"起","direction":"lower","formula":"cap"}','c91955dd908b0c5e759c00e81ea0e1032a5e7bbbc0dfb3f5aab73f795758c1df','',NULL);
INSERT INTO events_log VALUES(3,0,'0190a000-0000-7000-8000-000000000003','indicator.figure_reported',2,'indicator','accidents-2021',2,'2021-12-10T04:00:03.000000000Z','office:区政府督查室','cmd-3',NULL,NULL,'test','{"window":{"year":2021,"from_month":1,"to_month":11},"value":"16","quality":"final","source":{"kind":"agency","name":"区应急局"}}','fdb63cfc9019f6f116e23f819b985e3cf0aa40a836a1cfbf13ee132e207c8f58','c91955dd908b0c5e759c00e81ea0e1032a5e7bbbc0dfb3f5aab73f795758c1df',NULL);
INSERT INTO events_log VALUES(4,0,'0190a000-0000-7000-8000-000000000004','task.registered',1,'task','hitech',1,'2022-01-15T04:00:01.000000000Z','office:区政府督查室','cmd-4',NULL,NULL,'test','{"year":2022,"dimension":"高效率 落实","title":"国际科技创新中心建设和高新技术企业发展","lead_department":"区科委","co_departments":["区发改委","区财政局"],"deadline":"2022-12-31"}','8801e61a397632e03614404395e70f0ac2dc9ab4bb02d2d0dac7fdb3af809963','',NULL);
INSERT INTO events_log VALUES(5,0,'0190a000-0000-7000-8000-000000000005','indicator.defined',1,'indicator','hitech-firms',1,'2022-01-15T04:00:02.000000000Z','office:区政府督查室','cmd-5',NULL,NULL,'test','{"task_id":"hitech","year":2022,"key":"高新技术企业保有量","name":"高新技术企业保有量","unit":"家","direction":"higher","formula":"ratio"}','20f254487f9ca75cbdd876aaff5d4dd956432eb99ffdb3056a70d03b708c3527','',NULL);
INSERT INTO events_log VALUES(6,0,'0190a000-0000-7000-8000-000000000006','indicator.target_set',1,'indicator','hitech-firms',2,'2022-01-15T04:00:03.000000000Z','office:区政府督查室','cmd-6',NULL,NULL,'test','{"value":"719","revision":false,"source":{"kind":"agency","name":"市级下达"}}','199e597f1de4ccf2414a05fe038c0007edfde4cde63214d2ad0c7d44c1ad7df9','20f254487f9ca75cbdd876aaff5d4dd956432eb99ffdb3056a70d03b708c3527',NULL);
INSERT INTO events_log VALUES(7,0,'0190a000-0000-7000-8000-000000000007','task.registered',1,'task','upgrade',1,'2022-01-15T04:00:04.000000000Z','office:区政府督查室','cmd-7',NULL,NULL,'test','{"year":2022,"dimension":"高效率 落实","title":"疏解整治促提升专项行动","lead_department":"区经信局","deadline":"2023-06-30"}','1d251c4454f5f3246d5ba2ed39bb73bf4c8aab379004d8c5d480ad282e348260','',NULL);
INSERT INTO events_log VALUES(8,0,'0190a000-0000-7000-8000-000000000008','indicator.defined',1,'indicator','upgraded-firms',1,'2022-01-15T04:00:05.000000000Z','office:区政府督查室','cmd-8',NULL,NULL,'test','{"task_id":"upgrade","year":2022,"key":"","name":"一般制造业转型提质","unit":"家","direction":"higher","formula":"ratio"}','2c1595458226f0a849bdad8c8bc698ffcb1fb088b134ef1eddeaddd3f82bd096','',NULL);
INSERT INTO events_log VALUES(9,0,'0190a000-0000-7000-8000-000000000009','indicator.target_set',1,'indicator','upgraded-firms',2,'2022-01-15T04:00:06.000000000Z','office:区政府督查室','cmd-9',NULL,NULL,'test','{"value":"4","revision":false}','28ae879b84b9834ecc986164853ed8dd7a7ee5919aa3072022008094618c0136','2c1595458226f0a849bdad8c8bc698ffcb1fb088b134ef1eddeaddd3f82bd096',NULL);
INSERT INTO events_log VALUES(10,0,'0190a000-0000-7000-8000-000000000010','indicator.defined',1,'indicator','demolition',1,'2022-01-15T04:00:07.000000000Z','office:区政府督查室','cmd-10',NULL,NULL,'test','{"task_id":"upgrade","year":2022,"key":"","name":"拆除违法建设","unit":"万平方米","direction":"higher","formula":"ratio","additive":true}','0a4238eec33dff6550b99804ba9cb2a976a26d7a9a35db722d2aa16eabbcbc7d','',NULL);
INSERT INTO events_log VALUES(11,0,'0190a000-0000-7000-8000-000000000011','indicator.target_set',1,'indicator','demolition',2,'2022-01-15T04:00:08.000000000Z','office:区政府督查室','cmd-11',NULL,NULL,'test','{"value":"180","revision":false}','5eb38bc1c9925778d7f95f3a06b56d768df0b0f834d395423a5cb663072ece11','0a4238eec33dff6550b99804ba9cb2a976a26d7a9a35db722d2aa16eabbcbc7d',NULL);
INSERT INTO events_log VALUES(12,0,'0190a000-0000-7000-8000-000000000012','task.registered',1,'task','safety',1,'2022-01-15T04:00:09.000000000Z','office:区政府督查室','cmd-12',NULL,NULL,'test','{"year":2022,"dimension":"高效率 落实","title":"安全生产","lead_department":"区应急局"}','006b51ae5f4750408d94f6739086d7e881ae21a2c3963f589c621afaca3a0d7e','',NULL);
INSERT INTO events_log VALUES(13,0,'0190a000-0000-7000-8000-000000000013','indicator.defined',1,'indicator','accidents',1,'2022-01-15T04:00:10.000000000Z','office:区政府督查室','cmd-13',NULL,NULL,'test','{"task_id":"safety","year":2022,"key":"生产安全事故起数","name":"生产安全事故起数","unit":"起","direction":"lower","formula":"cap"}','6cedf21907125d8bb8506c366c697e0bcbe6584b32a267e9b2132b7f722b0228','',NULL);
INSERT INTO events_log VALUES(14,0,'0190a000-0000-7000-8000-000000000014','indicator.target_set',1,'indicator','accidents',2,'2022-01-15T04:00:11.000000000Z','office:区政府督查室','cmd-14',NULL,NULL,'test','{"value":"16","revision":false}','8abec8b40832421a56175fc6ebb0e74a7243bab982dc733f94415a95d622a6d2','6cedf21907125d8bb8506c366c697e0bcbe6584b32a267e9b2132b7f722b0228',NULL);
INSERT INTO events_log VALUES(15,0,'0190a000-0000-7000-8000-000000000015','indicator.defined',1,'indicator','deaths',1,'2022-01-15T04:00:12.000000000Z','office:区政府督查室','cmd-15',NULL,NULL,'test','{"task_id":"safety","year":2022,"key":"生产安全事故死亡人数","name":"死亡人数","unit":"人","direction":"lower","formula":"cap"}','38177b4834ff6b41a2f104ef34ae91d7e049ccd2e10dad6ce3b8ef1549f80707','',NULL);
INSERT INTO events_log VALUES(16,0,'0190a000-0000-7000-8000-000000000016','indicator.base_recorded',1,'indicator','deaths',2,'2022-01-15T04:00:13.000000000Z','office:区政府督查室','cmd-16',NULL,NULL,'test','{"window":{"year":2021,"from_month":1,"to_month":11},"value":"19","quality":"final","source":{"kind":"statistics_bureau","name":"区统计局"},"restated":false}','256928204383277b1d82166fc364866dfcf968ae948a69a6b86f04d15f92d477','38177b4834ff6b41a2f104ef34ae91d7e049ccd2e10dad6ce3b8ef1549f80707',NULL);
INSERT INTO events_log VALUES(17,0,'0190a000-0000-7000-8000-000000000017','indicator.defined',1,'indicator','dustfall',1,'2022-01-15T04:00:14.000000000Z','office:区政府督查室','cmd-17',NULL,NULL,'test','{"task_id":"safety","year":2022,"key":"","name":"降尘量","unit":"吨/平方公里·月","direction":"at_most","formula":"cap"}','7b0ecd28224011e485d22a8b8730e675ff8bdd168abfa64f22a6e9ba53df20de','',NULL);
INSERT INTO events_log VALUES(18,0,'0190a000-0000-7000-8000-000000000018','indicator.target_set',1,'indicator','dustfall',2,'2022-01-15T04:00:15.000000000Z','office:区政府督查室','cmd-18',NULL,NULL,'test','{"value":"5","revision":false}','cf4b8295c424269c6af9ab0164af730d90d21b64864c3ed4756a3dd16981a070','7b0ecd28224011e485d22a8b8730e675ff8bdd168abfa64f22a6e9ba53df20de',NULL);
INSERT INTO events_log VALUES(19,0,'0190a000-0000-7000-8000-000000000019','task.registered',1,'task','hills',1,'2022-01-15T04:00:16.000000000Z','office:区政府督查室','cmd-19',NULL,NULL,'test','{"year":2022,"dimension":"高效率 落实","title":"“浅山区”违法项目整治","lead_department":"区城管委"}','4a6c37ec4006909d4d9270e84e7cfc530d9b192fceb67814c444edfbe3fb189f','',NULL);
INSERT INTO events_log VALUES(20,0,'0190a000-0000-7000-8000-000000000020','task.problem_recorded',1,'task','hills',2,'2022-01-15T04:00:17.000000000Z','office:区政府督查室','cmd-20',NULL,NULL,'test','{"problem_id":"p87-1","description":"“浅山区”193宗一般性违法项目拆除整改","cause":"部分项目涉及历史遗留问题，协调难度大。","total_items":193}','4b8262c9a5d4747285af101ef1338c3a3acef3fe4713dc55a53c27537bfdafb6','4a6c37ec4006909d4d9270e84e7cfc530d9b192fceb67814c444edfbe3fb189f',NULL);
INSERT INTO events_log VALUES(21,0,'0190a000-0000-7000-8000-000000000021','indicator.figure_reported',2,'indicator','accidents',3,'2022-12-05T04:00:01.000000000Z','office:区政府督查室','cmd-21',NULL,NULL,'test','{"window":{"year":2022,"from_month":1,"to_month":11},"value":"13","quality":"final","source":{"kind":"agency","name":"区应急局"}}','c526435a8bf6780feb196fcf972bb9b388d751379651b00bc9dbdc330225b16f','8abec8b40832421a56175fc6ebb0e74a7243bab982dc733f94415a95d622a6d2',NULL);
INSERT INTO events_log VALUES(22,0,'0190a000-0000-7000-8000-000000000022','indicator.figure_reported',2,'indicator','deaths',3,'2022-12-05T04:00:02.000000000Z','office:区政府督查室','cmd-22',NULL,NULL,'test','{"window":{"year":2022,"from_month":1,"to_month":11},"value":"14","quality":"final","source":{"kind":"agency","name":"区应急局"}}','7456b5c4e881c2b3108e77de2bd566cce7784dbb5e9eed7505b762e57f1f5342','256928204383277b1d82166fc364866dfcf968ae948a69a6b86f04d15f92d477',NULL);
INSERT INTO events_log VALUES(23,0,'0190a000-0000-7000-8000-000000000023','indicator.figure_reported',2,'indicator','demolition',3,'2022-12-05T04:00:03.000000000Z','office:区政府督查室','cmd-23',NULL,NULL,'test','{"window":{"year":2022,"from_month":1,"to_month":11},"value":"191.8","quality":"provisional","source":{"kind":"self_reported"}}','bdaf2214b2f229273e5ecabfa060b546eefd3688aae921473874879c95f51b76','5eb38bc1c9925778d7f95f3a06b56d768df0b0f834d395423a5cb663072ece11',NULL);
INSERT INTO events_log VALUES(24,0,'0190a000-0000-7000-8000-000000000024','indicator.figure_reported',2,'indicator','upgraded-firms',3,'2022-12-05T04:00:04.000000000Z','office:区政府督查室','cmd-24',NULL,NULL,'test','{"window":{"year":2022,"from_month":1,"to_month":12},"value":"10","quality":"final","source":{"kind":"self_reported","name":"区经信局"}}','64f1d1d830fbb4b73c915fdd85818a75210a064760d77fa5adcd31ef40b2adec','28ae879b84b9834ecc986164853ed8dd7a7ee5919aa3072022008094618c0136',NULL);
INSERT INTO events_log VALUES(25,0,'0190a000-0000-7000-8000-000000000025','indicator.figure_reported',1,'indicator','dustfall',3,'2022-12-05T04:00:05.000000000Z','office:区政府督查室','cmd-25',NULL,NULL,'test','{"value":"3.6","quality":"provisional","source":"市科委","period":"2022-01..2022-11"}','96b24ec69aa6b4c175601f85486273d339278a7a0aff509b488e0099d15ba859','cf4b8295c424269c6af9ab0164af730d90d21b64864c3ed4756a3dd16981a070',NULL);
INSERT INTO events_log VALUES(26,0,'0190a000-0000-7000-8000-000000000026','task.rectification_progressed',1,'task','hills',3,'2022-12-05T04:00:06.000000000Z','office:区政府督查室','cmd-26',NULL,NULL,'test','{"problem_id":"p87-1","total":193,"rectified":191,"previous_total":193,"previous_rectified":0,"state":"in_progress","note":"已整改到位191宗"}','a3590f53af3f837f86b967f725906a36f2fb8a6384fbe3b7f7948eee88331c04','4b8262c9a5d4747285af101ef1338c3a3acef3fe4713dc55a53c27537bfdafb6',NULL);
INSERT INTO events_log VALUES(27,0,'0190a000-0000-7000-8000-000000000027','task.narrative_recorded',1,'task','hitech',2,'2022-12-05T04:00:07.000000000Z','office:区政府督查室','cmd-27',NULL,NULL,'test','{"items":["1. 已完成年度目标，共引进辰安城市智能科技等20家硬科技企业；落实“两区”建设（含自贸区）政策：《怀柔区贯彻落实稳住经济一揽子政策措施的工作方案》！","2. 遴选推荐50家企业申报纳入北京市“小升规”企业清单，其中34家通过评审。"],"as_of":"2022-12-15"}','4e883f40e2f1968bfc313a75b28e7f6b24c376066b224509b4b9bd2c77fca0db','8801e61a397632e03614404395e70f0ac2dc9ab4bb02d2d0dac7fdb3af809963',NULL);
INSERT INTO events_log VALUES(28,0,'0190a000-0000-7000-8000-000000000028','indicator.figure_reported',2,'indicator','hitech-firms',3,'2022-12-20T04:00:01.000000000Z','office:区政府督查室','cmd-28',NULL,NULL,'test','{"window":{"year":2022,"from_month":1,"to_month":12},"value":"610","quality":"estimate","source":{"kind":"self_reported","name":"区科委"},"final_due":"2023-03-31","note":"本数据为年度数据，预计2023年初由市科委反馈"}','8b10bf04f36f1c63cca2c4bcaafc57c0f1f663a0ca6b96b2ab9da6e2ed549e3c','199e597f1de4ccf2414a05fe038c0007edfde4cde63214d2ad0c7d44c1ad7df9',NULL);
INSERT INTO events_log VALUES(29,0,'0190a000-0000-7000-8000-000000000029','indicator.figure_reported',2,'indicator','hitech-firms',4,'2023-02-15T04:00:01.000000000Z','office:区政府督查室','cmd-29',NULL,NULL,'test','{"window":{"year":2022,"from_month":1,"to_month":12},"value":"605","quality":"final","source":{"kind":"agency","name":"市科委"},"supersedes":"0190a000-0000-7000-8000-000000000028"}','50f3ee8aa0d7bff725e3e72dbec4c487f4685e3cdabc9ec29cd1990900919676','8b10bf04f36f1c63cca2c4bcaafc57c0f1f663a0ca6b96b2ab9da6e2ed549e3c',NULL);
INSERT INTO events_log VALUES(30,0,'0190a000-0000-7000-8000-000000000030','indicator.figure_corrected',1,'indicator','hitech-firms',5,'2023-03-01T04:00:01.000000000Z','office:区政府督查室','cmd-30',NULL,NULL,'test','{"corrects":"0190a000-0000-7000-8000-000000000029","window":{"year":2022,"from_month":1,"to_month":12},"old_value":"605","new_value":"607","old_quality":"final","new_quality":"revised","source":{"kind":"agency","name":"市科委"},"reason":"市科委复核：补录2家延长批企业"}','3ad675b27fe351ada52e7abea6be4d68602fac2595b051f9e5c6a4fa32f2648f','50f3ee8aa0d7bff725e3e72dbec4c487f4685e3cdabc9ec29cd1990900919676',NULL);
INSERT INTO events_log VALUES(33,0,'0190a000-0000-7000-8000-000000000033','task.milestone_reached',1,'task','hitech',4,'2023-03-01T04:00:04.000000000Z','office:区政府督查室','cmd-3',NULL,NULL,'test','{"milestone":"完成前四批申报","reached_on":"2022-12-25"}','e16fc0dc866dffa2249ab263369ceae5846a0a6e5f1bfa27ecbe564d5f1b5f20','df83c0c2ed0b60ff1252f967e72ccbe481c02bcacf768724834aec53c188f82c',NULL);
CREATE TABLE dead_letters (
    position         INTEGER PRIMARY KEY,
    subject          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    event_id         TEXT,
    name             TEXT,
    aggregate_type   TEXT,
    aggregate_id     TEXT,
    error            TEXT NOT NULL,
    raw              BLOB,
    recorded_at      TEXT,
    dead_lettered_at TEXT NOT NULL
);
INSERT INTO dead_letters VALUES(31,'kpitrail.events.huairou.indicator.ghost','invariant','0190a000-0000-7000-8000-000000000031','indicator.figure_reported','indicator','ghost','indicator.figure_reported for indicator ghost, which is not defined',X'5b7b226964223a2230313930613030302d303030302d373030302d383030302d303030303030303030303331222c226e616d65223a22696e64696361746f722e6669677572655f7265706f72746564222c22736368656d615f76657273696f6e223a322c226167677265676174655f74797065223a22696e64696361746f72222c226167677265676174655f6964223a2267686f7374222c226167677265676174655f76657273696f6e223a312c22706f736974696f6e223a33312c227265636f726465645f6174223a22323032332d30332d30315430343a30303a30325a222c226163746f72223a226f66666963653ae58cbae694bfe5ba9ce79da3e69fa5e5aea4222c22636f6d6d616e645f6964223a22636d642d31222c22736f75726365223a2274657374222c227061796c6f6164223a7b2277696e646f77223a7b2279656172223a323032322c2266726f6d5f6d6f6e7468223a312c22746f5f6d6f6e7468223a31327d2c2276616c7565223a2231222c227175616c697479223a2266696e616c222c22736f75726365223a7b226b696e64223a2273656c665f7265706f72746564227d7d2c22707265765f68617368223a22222c2268617368223a2238326465393734663766363861326334633735313834366533623936383133303362353261346630643633396465383534313261333564653764633037613766227d5d','2023-03-01T04:00:02.000000000Z','2022-12-20T01:00:00.000000000Z');
INSERT INTO dead_letters VALUES(32,'kpitrail.events.huairou.task.hitech','chain_break','0190a000-0000-7000-8000-000000000032','task.narrative_recorded','task','hitech','altered: content hash 4769e7a9593b does not match stored hash df83c0c2ed0b (version 3)',X'5b7b226964223a2230313930613030302d303030302d373030302d383030302d303030303030303030303332222c226e616d65223a227461736b2e6e61727261746976655f7265636f72646564222c22736368656d615f76657273696f6e223a312c226167677265676174655f74797065223a227461736b222c226167677265676174655f6964223a22686974656368222c226167677265676174655f76657273696f6e223a332c22706f736974696f6e223a33322c227265636f726465645f6174223a22323032332d30332d30315430343a30303a30335a222c226163746f72223a226f66666963653ae58cbae694bfe5ba9ce79da3e69fa5e5aea4222c22636f6d6d616e645f6964223a22636d642d32222c22736f75726365223a2274657374222c227061796c6f6164223a7b226974656d73223a5b22e7afa1e694b9e5908ee79a84e69687e69cac225d7d2c22707265765f68617368223a2234653838336634306532663139363862666333313361373562323865376636623234633337363036366232323435303962346239626432633737666361306462222c2268617368223a2264663833633063326564306236306666313235326639363765373263636265343831633032626361636637363837323438333461656335336331383866383263227d5d','2023-03-01T04:00:03.000000000Z','2022-12-20T01:00:00.000000000Z');
INSERT INTO dead_letters VALUES(34,'kpitrail.events.task.x','malformed',NULL,NULL,NULL,NULL,'malformed message',X'00e4b88de698af4a534f4e',NULL,'2022-12-20T01:00:00.000000000Z');
CREATE TABLE tasks (
    id                  TEXT PRIMARY KEY,
    year                INTEGER NOT NULL,
    dimension           TEXT NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT,
    lead_department     TEXT NOT NULL,
    co_departments      TEXT NOT NULL DEFAULT '[]',
    deadline            TEXT,
    original_deadline   TEXT,
    lifecycle           TEXT NOT NULL,
    completed_on        TEXT,
    withdrawn_reason    TEXT,
    status              TEXT NOT NULL,
    progress_status     TEXT NOT NULL,
    deadline_status     TEXT NOT NULL,
    status_date         TEXT NOT NULL,
    indicators_total    INTEGER NOT NULL DEFAULT 0,
    indicators_met      INTEGER NOT NULL DEFAULT 0,
    indicators_on_track INTEGER NOT NULL DEFAULT 0,
    indicators_behind   INTEGER NOT NULL DEFAULT 0,
    indicators_not_met  INTEGER NOT NULL DEFAULT 0,
    indicators_pending  INTEGER NOT NULL DEFAULT 0,
    open_problems       INTEGER NOT NULL DEFAULT 0,
    narrative           TEXT NOT NULL DEFAULT '[]',
    narrative_as_of     TEXT,
    narrative_count     INTEGER NOT NULL DEFAULT 0,
    milestones          TEXT NOT NULL DEFAULT '[]',
    version             INTEGER NOT NULL,
    last_position       INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
, unit_id TEXT NOT NULL DEFAULT 'huairou') WITHOUT ROWID;
INSERT INTO tasks VALUES('hills',2022,'高效率 落实','“浅山区”违法项目整治',NULL,'区城管委','[]',NULL,NULL,'active',NULL,NULL,'at_risk','at_risk','none','2022-12-20',0,0,0,0,0,0,1,'[]',NULL,0,'[]',3,26,'2022-01-15T04:00:16.000000000Z','2022-12-05T04:00:06.000000000Z','huairou');
INSERT INTO tasks VALUES('hitech',2022,'高效率 落实','国际科技创新中心建设和高新技术企业发展',NULL,'区科委','["区发改委","区财政局"]','2022-12-31','2022-12-31','active',NULL,NULL,'due_soon','at_risk','due_soon','2022-12-20',1,0,0,0,1,0,0,'["1. 已完成年度目标，共引进辰安城市智能科技等20家硬科技企业；落实“两区”建设（含自贸区）政策：《怀柔区贯彻落实稳住经济一揽子政策措施的工作方案》！","2. 遴选推荐50家企业申报纳入北京市“小升规”企业清单，其中34家通过评审。"]','2022-12-15',1,'[{"milestone":"完成前四批申报","reached_on":"2022-12-25","event_id":"0190a000-0000-7000-8000-000000000033"}]',4,33,'2022-01-15T04:00:01.000000000Z','2023-03-01T04:00:04.000000000Z','huairou');
INSERT INTO tasks VALUES('safety',2022,'高效率 落实','安全生产',NULL,'区应急局','[]',NULL,NULL,'active',NULL,NULL,'on_track','on_track','none','2022-12-20',3,0,2,0,0,1,0,'[]',NULL,0,'[]',1,12,'2022-01-15T04:00:09.000000000Z','2022-01-15T04:00:09.000000000Z','huairou');
INSERT INTO tasks VALUES('safety-2021',2021,'高效率 落实','安全生产',NULL,'区应急局','[]',NULL,NULL,'active',NULL,NULL,'pending','pending','none','2022-12-20',1,0,0,0,0,1,0,'[]',NULL,0,'[]',1,1,'2021-12-10T04:00:01.000000000Z','2021-12-10T04:00:01.000000000Z','huairou');
INSERT INTO tasks VALUES('upgrade',2022,'高效率 落实','疏解整治促提升专项行动',NULL,'区经信局','[]','2023-06-30','2023-06-30','active',NULL,NULL,'on_track','on_track','not_due','2022-12-20',2,1,1,0,0,0,0,'[]',NULL,0,'[]',1,7,'2022-01-15T04:00:04.000000000Z','2022-01-15T04:00:04.000000000Z','huairou');
CREATE TABLE indicators (
    id                     TEXT PRIMARY KEY,
    task_id                TEXT NOT NULL REFERENCES tasks (id),
    year                   INTEGER NOT NULL,
    key                    TEXT NOT NULL,
    name                   TEXT NOT NULL,
    unit                   TEXT,
    direction              TEXT NOT NULL,
    formula                TEXT,
    additive               INTEGER NOT NULL,
    is_rate                INTEGER NOT NULL,
    cadence                TEXT,
    rounding               TEXT NOT NULL,
    baseline               TEXT,
    description            TEXT,
    lifecycle              TEXT NOT NULL,
    withdrawn_reason       TEXT,
    defined_event_id       TEXT NOT NULL,
    target                 TEXT,
    target_f               REAL,
    target_low             TEXT,
    target_high            TEXT,
    target_milestone       TEXT,
    target_event_id        TEXT,
    value                  TEXT,
    value_f                REAL,
    value_event_id         TEXT,
    value_window           TEXT,
    from_month             INTEGER,
    to_month               INTEGER,
    quality                TEXT,
    source_kind            TEXT,
    source_name            TEXT,
    final_due              TEXT,
    year_closed            INTEGER,
    completion_ratio       TEXT,
    completion_ratio_f     REAL,
    completion_pct_display TEXT,
    completion_case        TEXT,
    formula_used           TEXT,
    met                    INTEGER,
    status                 TEXT NOT NULL,
    expected_to_date       TEXT,
    expected_share         TEXT,
    expected_share_display TEXT,
    quality_basis          TEXT,
    derive_error           TEXT,
    position               INTEGER,
    version                INTEGER NOT NULL,
    last_position          INTEGER NOT NULL,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
, review_state TEXT, allow_negative INTEGER NOT NULL DEFAULT 0, part_of TEXT, sum_tolerance TEXT, outlier_band TEXT, conversion_from_unit TEXT, conversion_factor TEXT) WITHOUT ROWID;
INSERT INTO indicators VALUES('accidents','safety',2022,'生产安全事故起数','生产安全事故起数','起','lower','cap',0,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000013','16',16.0,NULL,NULL,NULL,'0190a000-0000-7000-8000-000000000014','13',13.0,'0190a000-0000-7000-8000-000000000021','2022-01..2022-11',1,11,'final','agency','区应急局',NULL,0,NULL,NULL,NULL,NULL,'cap',1,'on_track',NULL,NULL,NULL,'final',NULL,21,3,21,'2022-01-15T04:00:10.000000000Z','2022-12-05T04:00:01.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicators VALUES('accidents-2021','safety-2021',2021,'生产安全事故起数','生产安全事故起数','起','lower','cap',0,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000002',NULL,NULL,NULL,NULL,NULL,NULL,'16',16.0,'0190a000-0000-7000-8000-000000000003','2021-01..2021-11',1,11,'final','agency','区应急局',NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,'no_target',NULL,NULL,NULL,NULL,NULL,3,2,3,'2021-12-10T04:00:02.000000000Z','2021-12-10T04:00:03.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicators VALUES('deaths','safety',2022,'生产安全事故死亡人数','死亡人数','人','lower','cap',0,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000015',NULL,NULL,NULL,NULL,NULL,NULL,'14',14.0,'0190a000-0000-7000-8000-000000000022','2022-01..2022-11',1,11,'final','agency','区应急局',NULL,0,NULL,NULL,NULL,NULL,NULL,NULL,'no_target',NULL,NULL,NULL,NULL,NULL,22,3,22,'2022-01-15T04:00:12.000000000Z','2022-12-05T04:00:02.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicators VALUES('demolition','upgrade',2022,'demolition','拆除违法建设','万平方米','higher','ratio',1,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000010','180',180.0,NULL,NULL,NULL,'0190a000-0000-7000-8000-000000000011','191.8',191.80000000000001136,'0190a000-0000-7000-8000-000000000023','2022-01..2022-11',1,11,'provisional','self_reported',NULL,NULL,0,'1.065556',1.0655555555555555891,'106.6',NULL,'ratio',1,'on_track','165','0.916667','91.7','provisional',NULL,23,3,23,'2022-01-15T04:00:07.000000000Z','2022-12-05T04:00:03.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicators VALUES('dustfall','safety',2022,'dustfall','降尘量','吨/平方公里·月','at_most','cap',0,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000017','5',5.0,NULL,NULL,NULL,'0190a000-0000-7000-8000-000000000018','3.6',3.6000000000000000888,'0190a000-0000-7000-8000-000000000025','2022-01..2022-11',1,11,'provisional','agency','市科委',NULL,0,NULL,NULL,NULL,NULL,'cap',1,'on_track',NULL,NULL,NULL,'provisional',NULL,25,3,25,'2022-01-15T04:00:14.000000000Z','2022-12-05T04:00:05.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicators VALUES('hitech-firms','hitech',2022,'高新技术企业保有量','高新技术企业保有量','家','higher','ratio',0,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000005','719',719.0,NULL,NULL,NULL,'0190a000-0000-7000-8000-000000000006','607',607.0,'0190a000-0000-7000-8000-000000000030','2022',1,12,'revised','agency','市科委',NULL,1,'0.844228',0.84422809457579972569,'84.4',NULL,'ratio',0,'not_met',NULL,NULL,NULL,'revised',NULL,30,5,30,'2022-01-15T04:00:02.000000000Z','2023-03-01T04:00:01.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicators VALUES('upgraded-firms','upgrade',2022,'upgraded-firms','一般制造业转型提质','家','higher','ratio',0,0,NULL,'half_up',NULL,NULL,'active',NULL,'0190a000-0000-7000-8000-000000000008','4',4.0,NULL,NULL,NULL,'0190a000-0000-7000-8000-000000000009','10',10.0,'0190a000-0000-7000-8000-000000000024','2022',1,12,'final','self_reported','区经信局',NULL,1,'2.5',2.5,'250.0',NULL,'ratio',1,'exceeded',NULL,NULL,NULL,'final',NULL,24,3,24,'2022-01-15T04:00:05.000000000Z','2022-12-05T04:00:04.000000000Z','reported',0,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE figures (
    event_id     TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    task_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    window_key   TEXT NOT NULL,
    year         INTEGER NOT NULL,
    from_month   INTEGER NOT NULL,
    to_month     INTEGER NOT NULL,
    value        TEXT NOT NULL,
    value_f      REAL NOT NULL,
    numerator    TEXT,
    denominator  TEXT,
    quality      TEXT NOT NULL,
    source_kind  TEXT,
    source_name  TEXT,
    final_due    TEXT,
    state        TEXT NOT NULL,
    supersedes   TEXT,
    corrects     TEXT,
    fallback     TEXT,
    replaced_by  TEXT,
    note         TEXT,
    reason       TEXT,
    recorded_at  TEXT NOT NULL,
    actor        TEXT NOT NULL,
    command_id   TEXT NOT NULL,
    position     INTEGER NOT NULL
, review_state TEXT NOT NULL DEFAULT 'reported', submitted_by TEXT, submitted_at TEXT, reviewed_by TEXT, reviewed_at TEXT, review_reason TEXT, review_event_id TEXT) WITHOUT ROWID;
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000003','accidents-2021','safety-2021','report','2021-01..2021-11',2021,1,11,'16',16.0,NULL,NULL,'final','agency','区应急局',NULL,'current',NULL,NULL,NULL,NULL,NULL,NULL,'2021-12-10T04:00:03.000000000Z','office:区政府督查室','cmd-3',3,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000021','accidents','safety','report','2022-01..2022-11',2022,1,11,'13',13.0,NULL,NULL,'final','agency','区应急局',NULL,'current',NULL,NULL,NULL,NULL,NULL,NULL,'2022-12-05T04:00:01.000000000Z','office:区政府督查室','cmd-21',21,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000022','deaths','safety','report','2022-01..2022-11',2022,1,11,'14',14.0,NULL,NULL,'final','agency','区应急局',NULL,'current',NULL,NULL,NULL,NULL,NULL,NULL,'2022-12-05T04:00:02.000000000Z','office:区政府督查室','cmd-22',22,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000023','demolition','upgrade','report','2022-01..2022-11',2022,1,11,'191.8',191.80000000000001136,NULL,NULL,'provisional','self_reported',NULL,NULL,'current',NULL,NULL,NULL,NULL,NULL,NULL,'2022-12-05T04:00:03.000000000Z','office:区政府督查室','cmd-23',23,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000024','upgraded-firms','upgrade','report','2022',2022,1,12,'10',10.0,NULL,NULL,'final','self_reported','区经信局',NULL,'current',NULL,NULL,NULL,NULL,NULL,NULL,'2022-12-05T04:00:04.000000000Z','office:区政府督查室','cmd-24',24,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000025','dustfall','safety','report','2022-01..2022-11',2022,1,11,'3.6',3.6000000000000000888,NULL,NULL,'provisional','agency','市科委',NULL,'current',NULL,NULL,NULL,NULL,NULL,NULL,'2022-12-05T04:00:05.000000000Z','office:区政府督查室','cmd-25',25,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000028','hitech-firms','hitech','report','2022',2022,1,12,'610',610.0,NULL,NULL,'estimate','self_reported','区科委','2023-03-31','superseded',NULL,NULL,NULL,'0190a000-0000-7000-8000-000000000029','本数据为年度数据，预计2023年初由市科委反馈',NULL,'2022-12-20T04:00:01.000000000Z','office:区政府督查室','cmd-28',28,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000029','hitech-firms','hitech','report','2022',2022,1,12,'605',605.0,NULL,NULL,'final','agency','市科委',NULL,'corrected','0190a000-0000-7000-8000-000000000028',NULL,'0190a000-0000-7000-8000-000000000028','0190a000-0000-7000-8000-000000000030',NULL,NULL,'2023-02-15T04:00:01.000000000Z','office:区政府督查室','cmd-29',29,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO figures VALUES('0190a000-0000-7000-8000-000000000030','hitech-firms','hitech','correction','2022',2022,1,12,'607',607.0,NULL,NULL,'revised','agency','市科委',NULL,'current',NULL,'0190a000-0000-7000-8000-000000000029','0190a000-0000-7000-8000-000000000029',NULL,NULL,'市科委复核：补录2家延长批企业','2023-03-01T04:00:01.000000000Z','office:区政府督查室','cmd-30',30,'reported',NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE bases (
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    window_key   TEXT NOT NULL,
    year         INTEGER NOT NULL,
    from_month   INTEGER NOT NULL,
    to_month     INTEGER NOT NULL,
    value        TEXT NOT NULL,
    value_f      REAL NOT NULL,
    quality      TEXT NOT NULL,
    source_kind  TEXT,
    source_name  TEXT,
    restated     INTEGER NOT NULL,
    reason       TEXT,
    event_id     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (indicator_id, window_key)
) WITHOUT ROWID;
INSERT INTO bases VALUES('deaths','2021-01..2021-11',2021,1,11,'19',19.0,'final','statistics_bureau','区统计局',0,NULL,'0190a000-0000-7000-8000-000000000016',16,'2022-01-15T04:00:13.000000000Z');
CREATE TABLE indicator_years (
    key                TEXT NOT NULL,
    year               INTEGER NOT NULL,
    indicator_id       TEXT NOT NULL,
    task_id            TEXT NOT NULL,
    name               TEXT NOT NULL,
    unit               TEXT,
    is_rate            INTEGER NOT NULL,
    value              TEXT,
    value_f            REAL,
    value_window       TEXT,
    quality            TEXT,
    target             TEXT,
    met                INTEGER,
    status             TEXT NOT NULL,
    base               TEXT,
    base_f             REAL,
    base_window        TEXT,
    base_quality       TEXT,
    base_source        TEXT,
    base_event_id      TEXT,
    change_abs         TEXT,
    change_pct         TEXT,
    change_pct_f       REAL,
    change_pct_display TEXT,
    change_pp          TEXT,
    is_new             INTEGER, review_state TEXT, approved_value TEXT, approved_value_window TEXT, approved_value_event_id TEXT, approved_base TEXT, approved_base_source TEXT, approved_base_event_id TEXT, approved_change_abs TEXT, approved_change_pct TEXT, approved_change_pct_display TEXT, approved_change_pp TEXT, approved_is_new INTEGER,
    PRIMARY KEY (key, year)
) WITHOUT ROWID;
INSERT INTO indicator_years VALUES('demolition',2022,'demolition','upgrade','拆除违法建设','万平方米',0,'191.8',191.80000000000001136,'2022-01..2022-11','provisional','180',1,'on_track',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicator_years VALUES('dustfall',2022,'dustfall','safety','降尘量','吨/平方公里·月',0,'3.6',3.6000000000000000888,'2022-01..2022-11','provisional','5',1,'on_track',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicator_years VALUES('upgraded-firms',2022,'upgraded-firms','upgrade','一般制造业转型提质','家',0,'10',10.0,'2022','final','4',1,'exceeded',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicator_years VALUES('生产安全事故死亡人数',2022,'deaths','safety','死亡人数','人',0,'14',14.0,'2022-01..2022-11','final',NULL,NULL,'no_target','19',19.0,'2021-01..2021-11','final','recorded','0190a000-0000-7000-8000-000000000016','-5','-26.315789',-26.315789473684208844,'-26.3',NULL,0,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicator_years VALUES('生产安全事故起数',2021,'accidents-2021','safety-2021','生产安全事故起数','起',0,'16',16.0,'2021-01..2021-11','final',NULL,NULL,'no_target',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicator_years VALUES('生产安全事故起数',2022,'accidents','safety','生产安全事故起数','起',0,'13',13.0,'2022-01..2022-11','final','16',1,'on_track','16',16.0,'2021-01..2021-11','final','indicator','0190a000-0000-7000-8000-000000000003','-3','-18.75',-18.75,'-18.8',NULL,0,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
INSERT INTO indicator_years VALUES('高新技术企业保有量',2022,'hitech-firms','hitech','高新技术企业保有量','家',0,'607',607.0,'2022','revised','719',0,'not_met',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,'reported',NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL,NULL);
CREATE TABLE figure_changes (
    event_id     TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    period       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    old_quality  TEXT,
    new_quality  TEXT,
    reason       TEXT,
    note         TEXT,
    figure_source_kind TEXT,
    figure_source_name TEXT,
    corrects     TEXT,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    source       TEXT NOT NULL,
    command_id   TEXT NOT NULL,
    position     INTEGER NOT NULL
, actor_token_id TEXT, old_state TEXT, new_state TEXT) WITHOUT ROWID;
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000003','accidents-2021','safety-2021','2021-01..2021-11','reported',NULL,'16',NULL,'final',NULL,NULL,'agency','区应急局',NULL,'office:区政府督查室','2021-12-10T04:00:03.000000000Z','test','cmd-3',3,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000006','hitech-firms','hitech','2022','target_set',NULL,'719',NULL,NULL,NULL,NULL,'agency','市级下达',NULL,'office:区政府督查室','2022-01-15T04:00:03.000000000Z','test','cmd-6',6,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000009','upgraded-firms','upgrade','2022','target_set',NULL,'4',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'office:区政府督查室','2022-01-15T04:00:06.000000000Z','test','cmd-9',9,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000011','demolition','upgrade','2022','target_set',NULL,'180',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'office:区政府督查室','2022-01-15T04:00:08.000000000Z','test','cmd-11',11,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000014','accidents','safety','2022','target_set',NULL,'16',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'office:区政府督查室','2022-01-15T04:00:11.000000000Z','test','cmd-14',14,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000016','deaths','safety','2021-01..2021-11','base_recorded',NULL,'19',NULL,'final',NULL,NULL,'statistics_bureau','区统计局',NULL,'office:区政府督查室','2022-01-15T04:00:13.000000000Z','test','cmd-16',16,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000018','dustfall','safety','2022','target_set',NULL,'5',NULL,NULL,NULL,NULL,NULL,NULL,NULL,'office:区政府督查室','2022-01-15T04:00:15.000000000Z','test','cmd-18',18,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000021','accidents','safety','2022-01..2022-11','reported',NULL,'13',NULL,'final',NULL,NULL,'agency','区应急局',NULL,'office:区政府督查室','2022-12-05T04:00:01.000000000Z','test','cmd-21',21,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000022','deaths','safety','2022-01..2022-11','reported',NULL,'14',NULL,'final',NULL,NULL,'agency','区应急局',NULL,'office:区政府督查室','2022-12-05T04:00:02.000000000Z','test','cmd-22',22,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000023','demolition','upgrade','2022-01..2022-11','reported',NULL,'191.8',NULL,'provisional',NULL,NULL,'self_reported',NULL,NULL,'office:区政府督查室','2022-12-05T04:00:03.000000000Z','test','cmd-23',23,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000024','upgraded-firms','upgrade','2022','reported',NULL,'10',NULL,'final',NULL,NULL,'self_reported','区经信局',NULL,'office:区政府督查室','2022-12-05T04:00:04.000000000Z','test','cmd-24',24,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000025','dustfall','safety','2022-01..2022-11','reported',NULL,'3.6',NULL,'provisional',NULL,NULL,'agency','市科委',NULL,'office:区政府督查室','2022-12-05T04:00:05.000000000Z','test','cmd-25',25,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000028','hitech-firms','hitech','2022','reported',NULL,'610',NULL,'estimate',NULL,'本数据为年度数据，预计2023年初由市科委反馈','self_reported','区科委',NULL,'office:区政府督查室','2022-12-20T04:00:01.000000000Z','test','cmd-28',28,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000029','hitech-firms','hitech','2022','superseded','610','605','estimate','final',NULL,NULL,'agency','市科委',NULL,'office:区政府督查室','2023-02-15T04:00:01.000000000Z','test','cmd-29',29,NULL,NULL,NULL);
INSERT INTO figure_changes VALUES('0190a000-0000-7000-8000-000000000030','hitech-firms','hitech','2022','corrected','605','607','final','revised','市科委复核：补录2家延长批企业',NULL,'agency','市科委','0190a000-0000-7000-8000-000000000029','office:区政府督查室','2023-03-01T04:00:01.000000000Z','test','cmd-30',30,NULL,NULL,NULL);
CREATE TABLE problems (
    task_id          TEXT NOT NULL REFERENCES tasks (id),
    problem_id       TEXT NOT NULL,
    description      TEXT NOT NULL,
    cause            TEXT,
    total            INTEGER NOT NULL,
    rectified        INTEGER NOT NULL,
    remaining        INTEGER NOT NULL,
    rate             TEXT,
    rate_f           REAL,
    rate_display     TEXT,
    rate_display0    TEXT,
    state            TEXT NOT NULL,
    note             TEXT,
    recorded_event_id TEXT NOT NULL,
    last_event_id    TEXT NOT NULL,
    last_position    INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (task_id, problem_id),
    CHECK (remaining = total - rectified AND rectified >= 0 AND rectified <= total)
) WITHOUT ROWID;
INSERT INTO problems VALUES('hills','p87-1','“浅山区”193宗一般性违法项目拆除整改','部分项目涉及历史遗留问题，协调难度大。',193,191,2,'0.989637',0.98963730569948182846,'99.0','99','in_progress','已整改到位191宗','0190a000-0000-7000-8000-000000000020','0190a000-0000-7000-8000-000000000026',26,'2022-01-15T04:00:17.000000000Z','2022-12-05T04:00:06.000000000Z');
CREATE TABLE rectification_items (
    event_id           TEXT PRIMARY KEY,
    task_id            TEXT NOT NULL,
    problem_id         TEXT NOT NULL,
    kind               TEXT NOT NULL,
    previous_total     INTEGER NOT NULL,
    previous_rectified INTEGER NOT NULL,
    total              INTEGER NOT NULL,
    rectified          INTEGER NOT NULL,
    remaining          INTEGER NOT NULL,
    previous_state     TEXT NOT NULL,
    state              TEXT NOT NULL,
    note               TEXT,
    actor              TEXT NOT NULL,
    recorded_at        TEXT NOT NULL,
    position           INTEGER NOT NULL,
    FOREIGN KEY (task_id, problem_id) REFERENCES problems (task_id, problem_id)
) WITHOUT ROWID;
INSERT INTO rectification_items VALUES('0190a000-0000-7000-8000-000000000026','hills','p87-1','progressed',193,0,193,191,2,'open','in_progress','已整改到位191宗','office:区政府督查室','2022-12-05T04:00:06.000000000Z',26);
CREATE TABLE provenance (
    table_name  TEXT NOT NULL,
    row_key     TEXT NOT NULL,
    column_name TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (table_name, row_key, column_name, event_id)
) WITHOUT ROWID;
INSERT INTO provenance VALUES('indicator_years','["demolition",2022]','value','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicator_years','["dustfall",2022]','value','0190a000-0000-7000-8000-000000000025',25);
INSERT INTO provenance VALUES('indicator_years','["upgraded-firms",2022]','value','0190a000-0000-7000-8000-000000000024',24);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','base','0190a000-0000-7000-8000-000000000016',16);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','change_abs','0190a000-0000-7000-8000-000000000016',16);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','change_abs','0190a000-0000-7000-8000-000000000022',22);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','change_pct','0190a000-0000-7000-8000-000000000016',16);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','change_pct','0190a000-0000-7000-8000-000000000022',22);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','is_new','0190a000-0000-7000-8000-000000000016',16);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','is_new','0190a000-0000-7000-8000-000000000022',22);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故死亡人数",2022]','value','0190a000-0000-7000-8000-000000000022',22);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2021]','value','0190a000-0000-7000-8000-000000000003',3);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','base','0190a000-0000-7000-8000-000000000003',3);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','change_abs','0190a000-0000-7000-8000-000000000003',3);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','change_abs','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','change_pct','0190a000-0000-7000-8000-000000000003',3);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','change_pct','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','is_new','0190a000-0000-7000-8000-000000000003',3);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','is_new','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicator_years','["生产安全事故起数",2022]','value','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicator_years','["高新技术企业保有量",2022]','value','0190a000-0000-7000-8000-000000000030',30);
INSERT INTO provenance VALUES('indicators','accidents','met','0190a000-0000-7000-8000-000000000013',13);
INSERT INTO provenance VALUES('indicators','accidents','met','0190a000-0000-7000-8000-000000000014',14);
INSERT INTO provenance VALUES('indicators','accidents','met','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicators','accidents','status','0190a000-0000-7000-8000-000000000013',13);
INSERT INTO provenance VALUES('indicators','accidents','status','0190a000-0000-7000-8000-000000000014',14);
INSERT INTO provenance VALUES('indicators','accidents','status','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicators','accidents','target','0190a000-0000-7000-8000-000000000014',14);
INSERT INTO provenance VALUES('indicators','accidents','value','0190a000-0000-7000-8000-000000000021',21);
INSERT INTO provenance VALUES('indicators','accidents-2021','value','0190a000-0000-7000-8000-000000000003',3);
INSERT INTO provenance VALUES('indicators','deaths','value','0190a000-0000-7000-8000-000000000022',22);
INSERT INTO provenance VALUES('indicators','demolition','completion_pct_display','0190a000-0000-7000-8000-000000000010',10);
INSERT INTO provenance VALUES('indicators','demolition','completion_pct_display','0190a000-0000-7000-8000-000000000011',11);
INSERT INTO provenance VALUES('indicators','demolition','completion_pct_display','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicators','demolition','completion_ratio','0190a000-0000-7000-8000-000000000010',10);
INSERT INTO provenance VALUES('indicators','demolition','completion_ratio','0190a000-0000-7000-8000-000000000011',11);
INSERT INTO provenance VALUES('indicators','demolition','completion_ratio','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicators','demolition','expected_to_date','0190a000-0000-7000-8000-000000000011',11);
INSERT INTO provenance VALUES('indicators','demolition','expected_to_date','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicators','demolition','met','0190a000-0000-7000-8000-000000000010',10);
INSERT INTO provenance VALUES('indicators','demolition','met','0190a000-0000-7000-8000-000000000011',11);
INSERT INTO provenance VALUES('indicators','demolition','met','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicators','demolition','status','0190a000-0000-7000-8000-000000000010',10);
INSERT INTO provenance VALUES('indicators','demolition','status','0190a000-0000-7000-8000-000000000011',11);
INSERT INTO provenance VALUES('indicators','demolition','status','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicators','demolition','target','0190a000-0000-7000-8000-000000000011',11);
INSERT INTO provenance VALUES('indicators','demolition','value','0190a000-0000-7000-8000-000000000023',23);
INSERT INTO provenance VALUES('indicators','dustfall','met','0190a000-0000-7000-8000-000000000017',17);
INSERT INTO provenance VALUES('indicators','dustfall','met','0190a000-0000-7000-8000-000000000018',18);
INSERT INTO provenance VALUES('indicators','dustfall','met','0190a000-0000-7000-8000-000000000025',25);
INSERT INTO provenance VALUES('indicators','dustfall','status','0190a000-0000-7000-8000-000000000017',17);
INSERT INTO provenance VALUES('indicators','dustfall','status','0190a000-0000-7000-8000-000000000018',18);
INSERT INTO provenance VALUES('indicators','dustfall','status','0190a000-0000-7000-8000-000000000025',25);
INSERT INTO provenance VALUES('indicators','dustfall','target','0190a000-0000-7000-8000-000000000018',18);
INSERT INTO provenance VALUES('indicators','dustfall','value','0190a000-0000-7000-8000-000000000025',25);
INSERT INTO provenance VALUES('indicators','hitech-firms','completion_pct_display','0190a000-0000-7000-8000-000000000005',5);
INSERT INTO provenance VALUES('indicators','hitech-firms','completion_pct_display','0190a000-0000-7000-8000-000000000006',6);
INSERT INTO provenance VALUES('indicators','hitech-firms','completion_pct_display','0190a000-0000-7000-8000-000000000030',30);
INSERT INTO provenance VALUES('indicators','hitech-firms','completion_ratio','0190a000-0000-7000-8000-000000000005',5);
INSERT INTO provenance VALUES('indicators','hitech-firms','completion_ratio','0190a000-0000-7000-8000-000000000006',6);
INSERT INTO provenance VALUES('indicators','hitech-firms','completion_ratio','0190a000-0000-7000-8000-000000000030',30);
INSERT INTO provenance VALUES('indicators','hitech-firms','met','0190a000-0000-7000-8000-000000000005',5);
INSERT INTO provenance VALUES('indicators','hitech-firms','met','0190a000-0000-7000-8000-000000000006',6);
INSERT INTO provenance VALUES('indicators','hitech-firms','met','0190a000-0000-7000-8000-000000000030',30);
INSERT INTO provenance VALUES('indicators','hitech-firms','status','0190a000-0000-7000-8000-000000000005',5);
INSERT INTO provenance VALUES('indicators','hitech-firms','status','0190a000-0000-7000-8000-000000000006',6);
INSERT INTO provenance VALUES('indicators','hitech-firms','status','0190a000-0000-7000-8000-000000000030',30);
INSERT INTO provenance VALUES('indicators','hitech-firms','target','0190a000-0000-7000-8000-000000000006',6);
INSERT INTO provenance VALUES('indicators','hitech-firms','value','0190a000-0000-7000-8000-000000000030',30);
INSERT INTO provenance VALUES('indicators','upgraded-firms','completion_pct_display','0190a000-0000-7000-8000-000000000008',8);
INSERT INTO provenance VALUES('indicators','upgraded-firms','completion_pct_display','0190a000-0000-7000-8000-000000000009',9);
INSERT INTO provenance VALUES('indicators','upgraded-firms','completion_pct_display','0190a000-0000-7000-8000-000000000024',24);
INSERT INTO provenance VALUES('indicators','upgraded-firms','completion_ratio','0190a000-0000-7000-8000-000000000008',8);
INSERT INTO provenance VALUES('indicators','upgraded-firms','completion_ratio','0190a000-0000-7000-8000-000000000009',9);
INSERT INTO provenance VALUES('indicators','upgraded-firms','completion_ratio','0190a000-0000-7000-8000-000000000024',24);
INSERT INTO provenance VALUES('indicators','upgraded-firms','met','0190a000-0000-7000-8000-000000000008',8);
INSERT INTO provenance VALUES('indicators','upgraded-firms','met','0190a000-0000-7000-8000-000000000009',9);
INSERT INTO provenance VALUES('indicators','upgraded-firms','met','0190a000-0000-7000-8000-000000000024',24);
INSERT INTO provenance VALUES('indicators','upgraded-firms','status','0190a000-0000-7000-8000-000000000008',8);
INSERT INTO provenance VALUES('indicators','upgraded-firms','status','0190a000-0000-7000-8000-000000000009',9);
INSERT INTO provenance VALUES('indicators','upgraded-firms','status','0190a000-0000-7000-8000-000000000024',24);
INSERT INTO provenance VALUES('indicators','upgraded-firms','target','0190a000-0000-7000-8000-000000000009',9);
INSERT INTO provenance VALUES('indicators','upgraded-firms','value','0190a000-0000-7000-8000-000000000024',24);
INSERT INTO provenance VALUES('problems','["hills","p87-1"]','rate','0190a000-0000-7000-8000-000000000026',26);
INSERT INTO provenance VALUES('problems','["hills","p87-1"]','rectified','0190a000-0000-7000-8000-000000000026',26);
INSERT INTO provenance VALUES('problems','["hills","p87-1"]','remaining','0190a000-0000-7000-8000-000000000026',26);
INSERT INTO provenance VALUES('problems','["hills","p87-1"]','total','0190a000-0000-7000-8000-000000000026',26);
CREATE TABLE snapshots (
    event_id     TEXT PRIMARY KEY,
    year         INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    root         TEXT NOT NULL,
    aggregates   INTEGER NOT NULL,
    file         TEXT,
    note         TEXT,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    event_position INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE years (
    year              INTEGER PRIMARY KEY,
    state             TEXT NOT NULL,      -- frozen | open
    frozen_event_id   TEXT,
    frozen_at         TEXT,
    frozen_by         TEXT,
    frozen_note       TEXT,
    reopened_event_id TEXT,
    reopened_at       TEXT,
    reopened_by       TEXT,
    reopen_reason     TEXT,
    version           INTEGER NOT NULL,
    last_position     INTEGER NOT NULL
, monthly_due_day INTEGER, quarterly_due_day INTEGER, yearly_due TEXT, calendar_event_id TEXT) WITHOUT ROWID;
CREATE TABLE year_changes (
    event_id    TEXT PRIMARY KEY,
    year        INTEGER NOT NULL,
    kind        TEXT NOT NULL,            -- frozen | reopened
    reason      TEXT,
    note        TEXT,
    actor       TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    source      TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    position    INTEGER NOT NULL
, actor_token_id TEXT) WITHOUT ROWID;
CREATE TABLE proposals (
    event_id          TEXT PRIMARY KEY,
    indicator_id      TEXT NOT NULL REFERENCES indicators (id),
    task_id           TEXT NOT NULL,
    kind              TEXT NOT NULL,      -- base | target
    window_key        TEXT,
    value             TEXT,
    target_low        TEXT,
    target_high       TEXT,
    target_milestone  TEXT,
    quality           TEXT,
    source_kind       TEXT,
    source_name       TEXT,
    reason            TEXT NOT NULL,
    state             TEXT NOT NULL,      -- pending | approved | rejected
    proposed_by       TEXT NOT NULL,
    proposed_at       TEXT NOT NULL,
    decided_by        TEXT,
    decided_at        TEXT,
    decision_reason   TEXT,
    decision_event_id TEXT,
    position          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE warnings (
    indicator_id         TEXT NOT NULL,
    rule                 TEXT NOT NULL,
    subject              TEXT NOT NULL,   -- the figure's event id, '' for the indicator itself
    task_id              TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    window_key           TEXT,
    severity             TEXT NOT NULL,   -- error | warning
    message              TEXT NOT NULL,
    related              TEXT NOT NULL,   -- JSON array of the other figures or indicators it names
    state                TEXT NOT NULL,   -- open | explained
    explanation          TEXT,
    explained_by         TEXT,
    explained_at         TEXT,
    explanation_event_id TEXT,
    PRIMARY KEY (indicator_id, rule, subject)
) WITHOUT ROWID;
CREATE TABLE warning_explanations (
    indicator_id TEXT NOT NULL,
    rule         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (indicator_id, rule, subject)
) WITHOUT ROWID;
CREATE TABLE reporting_periods (
    indicator_id    TEXT NOT NULL,
    period_key      TEXT NOT NULL,   -- 2022-05, 2022-Q2, 2022
    task_id         TEXT NOT NULL,
    year            INTEGER NOT NULL,
    lead_department TEXT NOT NULL,
    cadence         TEXT NOT NULL,
    from_month      INTEGER NOT NULL,
    to_month        INTEGER NOT NULL,
    due_date        TEXT NOT NULL,
    figure_event_id TEXT,            -- the first figure recorded for it (retracted ones aside)
    reported_at     TEXT,
    reported_on     TEXT,            -- that record time's day in the assessment calendar
    PRIMARY KEY (indicator_id, period_key)
) WITHOUT ROWID;
CREATE TABLE units (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    level         TEXT NOT NULL,
    parent_id     TEXT,
    path          TEXT NOT NULL,
    depth         INTEGER NOT NULL,
    registered    INTEGER NOT NULL,   -- 0 for the default unit while only tasks name it
    event_id      TEXT,
    last_position INTEGER NOT NULL    -- 0 until registered
) WITHOUT ROWID;
INSERT INTO units VALUES('huairou','怀柔区','district',NULL,'/huairou/',1,0,NULL,0);
CREATE INDEX tasks_year_dimension ON tasks (year, dimension);
CREATE INDEX tasks_lead ON tasks (lead_department);
CREATE INDEX indicators_task ON indicators (task_id);
CREATE INDEX indicators_key_year ON indicators (key, year);
CREATE INDEX figures_indicator ON figures (indicator_id, window_key, state);
CREATE INDEX indicator_years_indicator ON indicator_years (indicator_id);
CREATE INDEX rectification_items_problem ON rectification_items (task_id, problem_id, position);
CREATE INDEX provenance_event ON provenance (event_id);
CREATE INDEX snapshots_year ON snapshots (year, position);
CREATE INDEX year_changes_year ON year_changes (year, position);
CREATE INDEX figures_review ON figures (review_state, state);
CREATE INDEX proposals_state ON proposals (state, indicator_id);
CREATE INDEX indicators_part_of ON indicators (part_of);
CREATE INDEX warnings_state ON warnings (state, year);
CREATE INDEX warnings_subject ON warnings (subject);
CREATE INDEX reporting_periods_year ON reporting_periods (year, lead_department, period_key);
CREATE INDEX units_path ON units (path);
CREATE INDEX tasks_unit ON tasks (unit_id);
CREATE INDEX events_log_aggregate ON events_log (aggregate_type, aggregate_id, aggregate_version);
CREATE INDEX events_log_recorded_at ON events_log (recorded_at);
CREATE INDEX figure_changes_indicator ON figure_changes (indicator_id, position);
COMMIT;
