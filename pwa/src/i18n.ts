// UI wording. Chinese (zh-CN) is first and the default; English follows key for key.
// The `en` dictionary is typed against the Chinese one, so a missing key fails `tsc`.

const zh = {
  'app.name': '码上安全',
  'app.short': '码上安全',
  'lang.switch': 'English',
  'lang.switchLabel': '切换到英文',
  'home.title': '扫一扫 安全状况全知道',
  'home.intro': '用手机扫描贴在店铺墙上的二维码，即可查看店铺的安全积分和排名，无需安装应用。',
  'home.ownerLogin': '店主登录',
  'home.gridLogin': '网格员登录',
  'home.weekly': '店主每周自查一次：如实填写、检查并拍照上传。',
  'home.monthly': '网格员每月到店巡查，核实自查记录，录入隐患。',
  'shop.title': '店铺安全档案',
  'shop.code': '店铺编号',
  'shop.score': '安全积分',
  'shop.rank': '排名',
  'shop.rankOf': '共 {of} 家',
  'shop.notLoaded': '本机暂无该店的积分数据',
  'shop.weeklyCheck': '每周自查',
  'shop.patrol': '网格员巡查',
  'shop.ownerLogin': '店主登录',
  'shop.gridLogin': '网格员登录',
  'login.title': '登录',
  'login.owner': '店主登录',
  'login.grid': '网格员登录',
  'login.office': '安监所登录',
  'login.soon': '登录功能即将开放。',
  'notFound.title': '页面不存在',
  'notFound.back': '返回首页',
  'sync.synced': '已同步',
  'sync.pulling': '正在下载…',
  'sync.pullingLeft': '正在下载 · 还剩 {n} 条',
  'sync.pending': '{n} 条待上传',
  'sync.offline': '离线',
  'sync.offlinePending': '离线 · {n} 条待上传',
  'sync.unreachable': '连不上服务器',
  'sync.unreachablePending': '连不上服务器 · {n} 条待上传',
  'sync.error': '同步出错',
  'update.prompt': '有新版本，点此更新',
  'check.yes': '是',
  'check.no': '否',
  'check.na': '不适用',
  'hazard.named': '{label}：{answer}',
  'hazard.more': '多于 {n}',
  'check.number': '人数',
  'check.hazardMark': '此项为隐患',
  'check.openHazard.open': '该项有未整改隐患，限期 {day} 整改',
  'check.openHazard.overdue': '该项有未整改隐患，限期 {day} 整改，已逾期',
  'check.openHazard.fixed': '该项隐患已整改，待网格员复查',
  'check.openHazard.unsent': '该项隐患已整改（待上传），待网格员复查',
  'check.ownerSaid': '店主自查：{answer}',
  'check.photo': '照片',
  'check.takePhoto': '拍照',
  'check.removePhoto': '删除这张照片',
  'check.removePhotoAsk': '删除这张照片？删除后不会上传。',
  'check.photoRequired': '拍照（必须）',
  'check.photoSaving': '正在处理照片…',
  'check.photoFailed': '照片保存失败：{reason}',
  'check.missingAnswer': '未填写：{item}',
  'check.missingPhoto': '须拍照：{item}',
  'check.title': '每周自查',
  'check.intro': '请如实填写，检查并拍照上传。离线也可提交，联网后自动上传。',
  'check.submit': '提交自查',
  'check.saved': '自查已保存，联网后自动上传。',
  'check.savedUploading': '自查已保存，正在上传。',
  'check.uploaded': '自查已上传。',
  'check.draftRestored': '已恢复上次未提交的草稿。',
  'check.noTemplate': '本机还没有检查表，请联网后再试。',
  'check.gps': '照片附带位置（需授权）',
  'check.doneThisWeek': '本周已自查',
  'check.notDoneThisWeek': '本周尚未自查',
  'card.list.red': '红榜',
  'card.list.black': '黑榜',
  'card.listMonth': '{year}年{month}月 {list}',
  'card.lastSelfCheck': '最近自查',
  'card.lastPatrol': '最近巡查',
  'card.never': '暂无',
  'card.points': '{n} 分',
  'card.rank': '第 {rank} 名',
  'card.offline': '离线：显示的是上次保存的信息',
  'card.offlineSaved': '离线：显示的是 {at} 保存的信息',
  'card.offlineNone': '暂时无法显示：手机离线或网络不好，本机也没有保存过该店铺的信息。请联网后再扫码。',
  'card.today': '今天',
  'card.yesterday': '昨天',
  'card.daysAgo': '{n} 天前',
  'card.unknown': '未找到该店铺',
  'card.unknownHint': '请核对二维码或店铺编号。',
  'card.closed': '该店铺已停业',
  'card.closedHint': '该店铺已停业，不再参加安全积分排名。',
  'card.pendingUpload': '（待上传）',
  'owner.confirmPin': '再次输入 6 位密码',
  'owner.pinDigits': '请输入 6 位数字',
  'owner.pinMismatch': '两次输入的密码不一致，请重新输入。',
  'owner.pinWeak': '密码太简单，容易被猜到（如 111111、123456）：请换一个。',
  'owner.activateFailed': '激活失败：{reason}',
  'owner.selfReported': '自查发现',
  'owner.selfReportedUnsent': '待上传后生成整改',
  'owner.selfReportedSent': '已上传，稍后生成整改',
  'auth.wrongPin': '店铺编号或密码错误。',
  'auth.wrongCode': '激活码错误或已过期，请向网格员索取新的激活码。',
  'auth.wrongPassword': '用户名或密码错误。',
  'auth.throttled': '尝试次数过多，请 {wait}后再试。',
  'auth.seconds': '{n} 秒',
  'auth.minutes': '{n} 分钟',
  'auth.shopClosed': '本店已停业，账号已停用。',
  'auth.disabled': '本店账号已停用，请联系街道安监所。',
  'auth.gone': '该账号已不存在。',
  'auth.noShop': '未找到该店铺，请核对店铺编号。',
  'owner.pinLabel': '6 位密码',
  'owner.login': '登录',
  'owner.activateTitle': '首次使用：激活',
  'owner.activateHint': '请输入网格员给您的激活码，并设置 6 位密码。',
  'owner.codeInPin': '这是激活码，已填到下面：请再设置 6 位数字密码，完成激活。',
  'owner.code': '激活码',
  'owner.newPin': '设置 6 位密码',
  'owner.activate': '激活并登录',
  'owner.home': '我的店铺',
  'owner.points': '安全积分',
  'owner.rank': '排名',
  'owner.hazards': '待整改隐患',
  'owner.noHazards': '暂无待整改隐患',
  'owner.deadline': '整改期限 {day}',
  'owner.overdue': '已逾期',
  'owner.alarms': '报警',
  'owner.doCheck': '开始每周自查',
  'owner.doCheckAgain': '本周已自查，再次自查',
  'owner.back': '返回我的店铺',
  'owner.rewards': '可兑换积分：{n}',
  'owner.rewardsHint': '每周自查、网格员巡查未发现新隐患都能得积分，可到街道安监所兑换奖品。',
  'owner.rectify': '上传整改照片',
  'owner.rectifyNote': '整改说明',
  'owner.rectifySubmit': '提交整改',
  'owner.rectified': '整改已提交，等待网格员核查。',
  'owner.rectifyNeed': '请拍照或填写整改说明。',
  'owner.rectifyUnsent': '整改已提交，待上传（联网后自动上传）。',
  'owner.rectifySaved': '整改已保存，联网后自动上传，等待网格员核查。',
  'owner.rectifyUploading': '整改已保存，正在上传，之后等待网格员核查。',
  'owner.rectifyUploaded': '整改已上传。',
  'owner.rectifyAlready': '该隐患的整改已经提交，无需重复提交。',
  'owner.hazardClosed': '该隐患已核查通过，无需整改。',
  'owner.hazardNote': '检查说明：{note}',
  'owner.list.red': '本月暂列安全生产红榜：积分在本街道排名前列。月底安监所公示后，榜单才显示在店铺二维码页上。继续每周自查、及时整改。',
  'owner.list.black': '本月暂列安全生产黑榜：积分在本街道排名靠后。月底安监所公示前，每周按时自查、按期整改隐患可以提高积分、离开黑榜；连续上黑榜的店铺将被列入专班整治。',
  'owner.list.blackGroup': '本月暂列安全生产黑榜，且近 6 个月有 3 个月上黑榜，已被列入专班整治：安监所将组织专班上门帮助整改。每周按时自查、按期整改隐患可以提高积分。',
  'owner.list.tied.red': '本店的名次在红榜名额内，但与名额外的店铺同分（积分和未销号隐患数都相同，已整改待复查的也算）。按规则，同分的店铺不拆开上榜：积分超过它们，就能上红榜。',
  'owner.list.tied.black': '本店的名次在黑榜名额内，但与名额外的店铺同分（积分和未销号隐患数都相同，已整改待复查的也算），按规则同分的店铺不拆开上榜，所以目前不在黑榜上。每周按时自查、按期整改隐患可以提高积分。',
  'owner.alarmsHint': '严重隐患已报告街道安监所，由安监所安排处置；请先按下面的隐患要求整改。',
  'owner.fromPatrol': '网格员巡查发现',
  'owner.fromSelfCheck': '本店自查上报',
  'owner.hazardCost': '扣 {n} 分',
  'owner.hazardRefund': '按期整改并通过核查返还 {n} 分',
  'owner.hazardOverdue': '逾期已扣 {n} 分，整改核查前每周再扣 {week} 分',
  'owner.hazardOverdueStopped': '逾期已扣 {n} 分；整改已提交，核查通过就不再扣分',
  'owner.hazardFalseReport': '自查未如实填报，另扣 {n} 分（不返还）',
  'owner.photoOffline': '联网后显示照片',
  'owner.photoFailed': '加载失败，点按重试',
  'owner.photoMissing': '照片未上传',
  'owner.photosFound': '隐患照片',
  'owner.photosFix': '整改照片',
  'owner.redemptions': '兑换记录（{n} 次）',
  'owner.redeemed': '用去 {n} 积分',
  'owner.listSep': '，',
  'owner.notLoaded': '正在从服务器获取数据…',
  'owner.signOut': '退出登录',
  'owner.signOutPending': '还有 {n} 条数据未上传。仍然退出并删除这些数据吗？',
  'owner.signOutDrafts': '还有未提交的{drafts}，退出后将被删除。仍然退出吗？',
  'owner.signOutPendingDrafts': '还有 {n} 条数据未上传，未提交的{drafts}也将被删除。仍然退出并删除这些数据吗？',
  'owner.draft.check': '自查草稿',
  'owner.draft.rectify': '整改草稿',
  'owner.draft.patrol': '巡查草稿',
  'owner.draft.other': '表单草稿',
  'owner.fixRejected': '整改未通过',
  'owner.fixRejectedNote': '网格员意见：{note}',
  'owner.fixAgain': '请重新整改，并再次上传整改照片。',
  'owner.verifiedTitle': '已通过核查',
  'owner.verifiedOn': '{day} 核查通过',
  'owner.refundBack': '按期整改，返还 {n} 分（发现时扣 {cost} 分）',
  'owner.refundInTime': '按期整改',
  'owner.refundLate': '超过整改期限才整改，扣分不返还（发现时扣 {cost} 分）',
  'owner.weekPointsEarned': '本周的自查积分已经得到（每周只计一次），再次自查不再加分；但发现的问题照样记录，需要整改。',
  'owner.weekPointsPending': '本周的自查积分在自查上传后计入（每周只计一次），再次自查不再加分；但发现的问题照样记录，需要整改。',
  'owner.pinHelp': '忘记密码或被锁定？请找网格员领取新的激活码，在“首次使用：激活”中输入激活码，设置新的 6 位密码。',
  'owner.useCode': '我有激活码',
  'owner.ledgerTitle': '积分明细',
  'owner.ledgerEmpty': '暂无积分记录',
  'owner.ledgerMore': '查看更早的记录',
  'owner.ledger.start': '年度基础分',
  'owner.ledger.self_check': '每周自查',
  'owner.ledger.missed_week': '漏做自查：{from} 至 {to} 这一周',
  'owner.ledger.missedWeekAny': '漏做一周自查',
  'owner.ledger.patrol_clean': '网格员巡查未发现新隐患',
  'owner.ledger.hazard': '发现隐患：{item}',
  'owner.ledger.selfHazard': '自查发现隐患（扣分减半）：{item}',
  'owner.ledger.false_self_report': '自查未如实填报：{item}',
  'owner.ledger.overdue': '逾期未整改（第 {n} 周）：{item}',
  'owner.ledger.refund': '按期整改，返还扣分：{item}',
  'login.username': '用户名',
  'login.password': '密码',
  'login.submit': '登录',
  'login.failed': '登录失败：{reason}',
  'login.offline': '无网络，无法登录。请联网后再试。',
  'login.shop': '店铺编号',
  'item.other': '其他问题',
  'severity.general': '一般',
  'severity.major': '较大',
  'severity.serious': '严重',
  'sync.details': '同步详情',
  'sync.waitingDocs': '待上传记录：{n}',
  'sync.waitingPhotos': '待上传照片：{n}',
  'sync.lastPush': '最近上传：{t}',
  'sync.lastPull': '最近下载：{t}',
  'sync.photosForgotten': '已从本机清理 {n} 张拍摄满 {d} 天、服务器已收到的照片（{t}），需要时从服务器查看。',
  'sync.refused': '服务器拒收（{n}）',
  'refused.self_check': '自查记录',
  'refused.patrol': '巡查记录',
  'refused.rectification': '整改记录',
  'refused.verification': '复核记录',
  'refused.photo': '照片',
  'refused.clock': '手机时间不准（比服务器快），请把手机时间设为自动，再重新填写这条记录。',
  'refused.tooOld': '这条记录是 90 天以前的，服务器不再接收。',
  'refused.scope': '这家店已不在你的范围内（可能已调整网格），请联系街道安监所。',
  'refused.template': '检查表版本服务器不认识，请联网打开应用更新后重新填写。',
  'refused.account': '你的账号不能提交这类记录，请重新登录。',
  'refused.photoFile': '照片无法接收（格式或大小不符），请重新拍照。',
  'refused.exists': '服务器已有同一条记录，这一份不再上传。',
  'refused.other': '服务器拒收：{reason}',
  'sync.dismiss': '知道了',
  'sync.export': '导出未上传的数据',
  'sync.problem': '同步出错：{why}',
  'sync.serverFull': '服务器存储空间已满。记录都保存在本机，稍后会自动重新上传。',
  'sync.refusedKept': '被拒收的记录和照片一直保留在本机，点“知道了”后照片才会按期清理。可先导出，交给街道安监所处理。',
  'sync.storageFull': '手机存储空间已满，请清理后再试，或导出未上传的数据。',
  'sync.never': '从未',
  'sync.close': '关闭',
  'home.openGrid': '进入网格员工作台',
  'home.openOffice': '进入安监所工作台',
  'alarm.open': '待处理',
  'alarm.acknowledged': '已确认',
  'alarm.dispatched': '已派单',
  'alarm.resolved': '已办结',
} as const;

export type MessageKey = keyof typeof zh;
export type Dictionary = Record<MessageKey, string>;

const en: Dictionary = {
  'app.name': 'Mashang Safety',
  'app.short': 'Mashang',
  'lang.switch': '中文',
  'lang.switchLabel': 'Switch to Chinese',
  'home.title': 'Scan to see how safe a shop is',
  'home.intro':
    "Scan the QR code on the shop's wall with your phone to see its safety score and rank. No app to install.",
  'home.ownerLogin': 'Shop owner sign-in',
  'home.gridLogin': 'Grid worker sign-in',
  'home.weekly': 'Owners self-inspect every week: answer truthfully, check, photograph, upload.',
  'home.monthly': 'Grid workers patrol every shop each month, verify self-checks and record hazards.',
  'shop.title': 'Shop safety file',
  'shop.code': 'Shop code',
  'shop.score': 'Safety score',
  'shop.rank': 'Rank',
  'shop.rankOf': 'of {of}',
  'shop.notLoaded': 'No score for this shop on this device yet',
  'shop.weeklyCheck': 'Weekly self-check',
  'shop.patrol': 'Grid worker patrol',
  'shop.ownerLogin': 'Shop owner sign-in',
  'shop.gridLogin': 'Grid worker sign-in',
  'login.title': 'Sign in',
  'login.owner': 'Shop owner sign-in',
  'login.grid': 'Grid worker sign-in',
  'login.office': 'Safety office sign-in',
  'login.soon': 'Sign-in is coming soon.',
  'notFound.title': 'Page not found',
  'notFound.back': 'Back to home',
  'sync.synced': 'Synced',
  'sync.pulling': 'Downloading…',
  'sync.pullingLeft': 'Downloading · {n} left',
  'sync.pending': '{n} waiting',
  'sync.offline': 'Offline',
  'sync.offlinePending': 'Offline · {n} waiting',
  'sync.unreachable': 'Server unreachable',
  'sync.unreachablePending': 'Server unreachable · {n} waiting',
  'sync.error': 'Sync error',
  'update.prompt': 'New version available: tap to update',
  'check.yes': 'Yes',
  'check.no': 'No',
  'check.na': 'Not applicable',
  'hazard.named': '{label}: {answer}',
  'hazard.more': 'more than {n}',
  'check.number': 'Number',
  'check.hazardMark': 'This answer is a hazard',
  'check.openHazard.open': 'This item has a hazard to fix by {day}',
  'check.openHazard.overdue': 'This item has a hazard to fix by {day}: overdue',
  'check.openHazard.fixed': "This item's hazard is fixed, waiting for the grid worker to verify it",
  'check.openHazard.unsent': "This item's hazard is fixed (waiting to upload), then the grid worker verifies it",
  'check.ownerSaid': 'Owner answered: {answer}',
  'check.photo': 'Photo',
  'check.takePhoto': 'Take photo',
  'check.removePhoto': 'Remove this photo',
  'check.removePhotoAsk': 'Remove this photo? It will not be uploaded.',
  'check.photoRequired': 'Take photo (required)',
  'check.photoSaving': 'Processing photo…',
  'check.photoFailed': 'Photo not saved: {reason}',
  'check.missingAnswer': 'Not answered: {item}',
  'check.missingPhoto': 'Photo required: {item}',
  'check.title': 'Weekly self-check',
  'check.intro': 'Answer truthfully, check and take photos. Works offline; uploads when online.',
  'check.submit': 'Submit self-check',
  'check.saved': 'Self-check saved; it uploads when online.',
  'check.savedUploading': 'Self-check saved; uploading.',
  'check.uploaded': 'Self-check uploaded.',
  'check.draftRestored': 'Your unsent draft was restored.',
  'check.noTemplate': 'No checklist on this device yet; go online and try again.',
  'check.gps': 'Add location to photos (asks permission)',
  'check.doneThisWeek': 'Self-check done this week',
  'check.notDoneThisWeek': 'No self-check yet this week',
  'card.list.red': 'Red list',
  'card.list.black': 'Black list',
  'card.listMonth': '{list}, {month} {year}',
  'card.lastSelfCheck': 'Last self-check',
  'card.lastPatrol': 'Last patrol',
  'card.never': 'none yet',
  'card.points': '{n} {n|point|points}',
  'card.rank': 'No. {rank}',
  'card.offline': 'Offline: showing the last saved card',
  'card.offlineSaved': 'Offline: showing the card saved {at}',
  'card.offlineNone': 'Cannot show this shop now: the phone is offline or the network is poor, and no card of it is saved on this phone. Scan again when online.',
  'card.today': 'today',
  'card.yesterday': 'yesterday',
  'card.daysAgo': '{n} {n|day|days} ago',
  'card.unknown': 'Shop not found',
  'card.unknownHint': 'Check the QR code or the shop code.',
  'card.closed': 'This shop is closed',
  'card.closedHint': 'This shop is closed and no longer ranked.',
  'card.pendingUpload': ' (waiting to upload)',
  'owner.confirmPin': 'Type the 6-digit PIN again',
  'owner.pinDigits': 'Enter 6 digits',
  'owner.pinMismatch': 'The two PINs differ: type them again.',
  'owner.pinWeak': 'That PIN is too easy to guess (like 111111 or 123456): choose another.',
  'owner.activateFailed': 'Activation failed: {reason}',
  'owner.selfReported': 'Self-reported',
  'owner.selfReportedUnsent': 'becomes a hazard to fix once uploaded',
  'owner.selfReportedSent': 'uploaded; becomes a hazard to fix shortly',
  'auth.wrongPin': 'Wrong shop code or PIN.',
  'auth.wrongCode': 'Wrong or expired activation code: ask your grid worker for a new one.',
  'auth.wrongPassword': 'Wrong username or password.',
  'auth.throttled': 'Too many failed attempts: try again in {wait}.',
  'auth.seconds': '{n} s',
  'auth.minutes': '{n} min',
  'auth.shopClosed': 'This shop is closed; its account is disabled.',
  'auth.disabled': "This shop's account is disabled: ask the safety office.",
  'auth.gone': 'This account no longer exists.',
  'auth.noShop': 'Shop not found: check the shop code.',
  'owner.pinLabel': '6-digit PIN',
  'owner.login': 'Sign in',
  'owner.activateTitle': 'First time: activate',
  'owner.activateHint': 'Enter the activation code from your grid worker and choose a 6-digit PIN.',
  'owner.codeInPin': 'That is an activation code, moved below: choose a 6-digit PIN to activate.',
  'owner.code': 'Activation code',
  'owner.newPin': 'Choose a 6-digit PIN',
  'owner.activate': 'Activate and sign in',
  'owner.home': 'My shop',
  'owner.points': 'Safety score',
  'owner.rank': 'Rank',
  'owner.hazards': 'Hazards to fix',
  'owner.noHazards': 'No open hazards',
  'owner.deadline': 'Fix by {day}',
  'owner.overdue': 'Overdue',
  'owner.alarms': 'Alarms',
  'owner.doCheck': 'Start the weekly self-check',
  'owner.doCheckAgain': 'Done this week; check again',
  'owner.back': 'Back to my shop',
  'owner.rewards': 'Reward points: {n}',
  'owner.rewardsHint':
    'Earned by weekly self-checks and by patrols that find no new hazard; exchange them for prizes at the safety office.',
  'owner.rectify': 'Upload rectification photo',
  'owner.rectifyNote': 'What was done',
  'owner.rectifySubmit': 'Submit rectification',
  'owner.rectified': 'Rectification sent; a grid worker will verify it.',
  'owner.rectifyNeed': 'Add a photo or a note.',
  'owner.rectifyUnsent': 'Rectification submitted, waiting to upload (it goes once the phone is online).',
  'owner.rectifySaved': 'Rectification saved; it uploads when online, then a grid worker verifies it.',
  'owner.rectifyUploading': 'Rectification saved; uploading, then a grid worker verifies it.',
  'owner.rectifyUploaded': 'Rectification uploaded.',
  'owner.rectifyAlready': 'A rectification of this hazard is already submitted; no need to send it again.',
  'owner.hazardClosed': 'This hazard was verified as fixed; nothing to do.',
  'owner.hazardNote': 'Inspection note: {note}',
  'owner.list.red': 'This month so far, your shop is on the safety red list: its points rank near the top of the sub-district. The list shows on the shop\'s QR page once the safety office publishes it at the month\'s end. Keep up the weekly self-checks and fix hazards on time.',
  'owner.list.black': 'This month so far, your shop is on the safety black list: its points rank near the bottom of the sub-district. Until the safety office publishes the list at the month\'s end, weekly self-checks on time and fixing hazards by their deadlines raise them and can take it off; shops on the black list again and again go to a dedicated working group.',
  'owner.list.blackGroup': 'This month so far, your shop is on the safety black list, as in 3 of the last 6 months, and is flagged for a dedicated working group: the safety office will send one to help fix its hazards. Weekly self-checks on time and fixing hazards by their deadlines raise your points.',
  'owner.list.tied.red': 'Your rank is within the red list\'s places, but your shop is tied with shops beyond them (same points and hazards not closed, fixes awaiting their check included). Tied shops are never split between on and off a list: score more than them to be on the red list.',
  'owner.list.tied.black': 'Your rank is within the black list\'s places, but your shop is tied with shops beyond them (same points and hazards not closed, fixes awaiting their check included), and tied shops are never split between on and off a list, so it is not on the black list. Weekly self-checks on time and fixing hazards by their deadlines raise your points.',
  'owner.alarmsHint': 'Serious hazards were reported to the safety office, which arranges what happens next; fix the hazards below as asked.',
  'owner.fromPatrol': 'Found by the grid worker',
  'owner.fromSelfCheck': 'Reported in your self-check',
  'owner.hazardCost': '{n} {n|point|points} taken',
  'owner.hazardRefund': '{n} back if fixed and verified in time',
  'owner.hazardOverdue': '{n} more taken for being overdue, {week} each week until the fix is verified',
  'owner.hazardOverdueStopped': '{n} more taken for being overdue; no more if the fix you sent passes its check',
  'owner.hazardFalseReport': 'the self-check said it was in order: {n} more {n|point|points} taken (not given back)',
  'owner.photoOffline': 'the photo shows once online',
  'owner.photoFailed': "Couldn't load. Tap to retry",
  'owner.photoMissing': 'Not uploaded yet',
  'owner.photosFound': 'Hazard',
  'owner.photosFix': 'Your fix',
  'owner.redemptions': 'Exchanged ({n} {n|time|times})',
  'owner.redeemed': '{n} {n|point|points} used',
  'owner.listSep': '; ',
  'owner.notLoaded': 'Fetching data from the server…',
  'owner.signOut': 'Sign out',
  'owner.signOutPending': '{n} {n|item is|items are} not uploaded yet. Sign out and delete them anyway?',
  'owner.signOutDrafts': 'Your unsent {drafts} will be deleted. Sign out anyway?',
  'owner.signOutPendingDrafts':
    '{n} {n|item is|items are} not uploaded yet, and your unsent {drafts} will be deleted too. Sign out and delete them anyway?',
  'owner.draft.check': 'self-check draft',
  'owner.draft.rectify': 'rectification draft',
  'owner.draft.patrol': 'patrol draft',
  'owner.draft.other': 'form draft',
  'owner.fixRejected': 'Fix not accepted',
  'owner.fixRejectedNote': "Grid worker's note: {note}",
  'owner.fixAgain': 'Please fix it again and upload a new rectification photo.',
  'owner.verifiedTitle': 'Verified as fixed',
  'owner.verifiedOn': 'verified {day}',
  'owner.refundBack': 'Fixed in time: {n} {n|point|points} back (it cost {cost})',
  'owner.refundInTime': 'Fixed in time',
  'owner.refundLate': 'Fixed after the deadline: no points back (it cost {cost})',
  'owner.weekPointsEarned':
    "This week's self-check points are already earned (they count once a week): another check earns none, but the problems it finds are still recorded and must be fixed.",
  'owner.weekPointsPending':
    "This week's self-check points count once your check uploads (once a week): another check earns none, but the problems it finds are still recorded and must be fixed.",
  'owner.pinHelp':
    'Forgot your PIN or locked out? Ask your grid worker for a new activation code and enter it under "First time: activate" to set a new 6-digit PIN.',
  'owner.useCode': 'I have an activation code',
  'owner.ledgerTitle': 'Points history',
  'owner.ledgerEmpty': 'No points entries yet',
  'owner.ledgerMore': 'Show earlier entries',
  'owner.ledger.start': 'Starting points of the year',
  'owner.ledger.self_check': 'Weekly self-check',
  'owner.ledger.missed_week': 'No self-check in the week {from} to {to}',
  'owner.ledger.missedWeekAny': 'A week without a self-check',
  'owner.ledger.patrol_clean': 'Grid worker patrol found no new hazard',
  'owner.ledger.hazard': 'Hazard found: {item}',
  'owner.ledger.selfHazard': 'Hazard you reported (half the cost): {item}',
  'owner.ledger.false_self_report': 'Self-check said it was in order: {item}',
  'owner.ledger.overdue': 'Not fixed in time (week {n}): {item}',
  'owner.ledger.refund': 'Fixed in time, points back: {item}',
  'login.username': 'Username',
  'login.password': 'Password',
  'login.submit': 'Sign in',
  'login.failed': 'Sign-in failed: {reason}',
  'login.offline': 'No network: signing in needs a connection.',
  'login.shop': 'Shop code',
  'item.other': 'Other problem',
  'severity.general': 'General',
  'severity.major': 'Major',
  'severity.serious': 'Serious',
  'sync.details': 'Sync details',
  'sync.waitingDocs': 'Records waiting: {n}',
  'sync.waitingPhotos': 'Photos waiting: {n}',
  'sync.lastPush': 'Last upload: {t}',
  'sync.lastPull': 'Last download: {t}',
  'sync.photosForgotten':
    'Removed {n} {n|photo|photos} taken over {d} {d|day|days} ago, which the server has, from this phone ({t}); they are viewed from the server.',
  'sync.refused': 'Refused by the server ({n})',
  'refused.self_check': 'self-check',
  'refused.patrol': 'patrol',
  'refused.rectification': 'rectification',
  'refused.verification': 'verification',
  'refused.photo': 'photo',
  'refused.clock': "The phone's clock is ahead of the server's: set it to automatic time, then fill in this record again.",
  'refused.tooOld': 'This record is more than 90 days old: the server no longer takes it.',
  'refused.scope': 'This shop is no longer yours (its grid may have changed): contact the safety office.',
  'refused.template': 'The server does not know this checklist version: open the app online to update, then fill it in again.',
  'refused.account': 'Your account may not send this kind of record: sign in again.',
  'refused.photoFile': 'The photo cannot be taken (its format or size): take it again.',
  'refused.exists': 'The server has this record already: this copy is not sent.',
  'refused.other': 'Refused by the server: {reason}',
  'sync.dismiss': 'Got it',
  'sync.export': 'Export data not uploaded',
  'sync.problem': 'Sync failed: {why}',
  'sync.serverFull': 'The server’s storage is full. Everything stays on this phone and is sent again later.',
  'sync.refusedKept': 'Refused records and their photos stay on this phone; the photos are cleared in time only after you tap Got it. Export them first to hand them to the safety office.',
  'sync.storageFull': 'The phone storage is full: free some space, or export the data not uploaded.',
  'sync.never': 'never',
  'sync.close': 'Close',
  'home.openGrid': 'Open my shops (grid worker)',
  'home.openOffice': 'Open the safety office desk',
  'alarm.open': 'Open',
  'alarm.acknowledged': 'Acknowledged',
  'alarm.dispatched': 'Dispatched',
  'alarm.resolved': 'Resolved',
};

export const LANGS = ['zh-CN', 'en'] as const;
export type Lang = (typeof LANGS)[number];
export const DEFAULT_LANG: Lang = 'zh-CN';
export const LANG_STORAGE_KEY = 'mashang.lang';

const dictionaries: Record<Lang, Dictionary> = { 'zh-CN': zh, en };

export type Params = Record<string, string | number>;

/** Fill `{name}` placeholders; a name without a value stays as it is. Every screen's dictionary uses it. */
export function fill(text: string, params?: Params): string {
  if (!params) return text;
  // `{n|one|other}`: English plurals ("1 hazard", "2 hazards"); the word for one when the number is 1, else the other.
  return text
    .replace(/\{(\w+)\|([^|{}]*)\|([^|{}]*)\}/g, (whole, name: string, one: string, other: string) =>
      name in params ? (Number(params[name]) === 1 ? one : other) : whole,
    )
    .replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** Look a key up in one language and fill `{name}` placeholders. */
export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  return fill(dictionaries[lang][key] ?? dictionaries[DEFAULT_LANG][key] ?? key, params);
}

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (LANGS as readonly string[]).includes(value);
}

/** The stored choice if there is one, else Chinese (the platform's users read Chinese first). */
export function pickLang(stored: string | null): Lang {
  return isLang(stored) ? stored : DEFAULT_LANG;
}

function readStored(): string | null {
  try {
    return globalThis.localStorage?.getItem(LANG_STORAGE_KEY) ?? null;
  } catch {
    return null; // storage disabled (private mode, embedded webview)
  }
}

let current: Lang | null = null;

export function getLang(): Lang {
  if (current === null) current = pickLang(readStored());
  return current;
}

export function setLang(lang: Lang): void {
  current = lang;
  try {
    globalThis.localStorage?.setItem(LANG_STORAGE_KEY, lang);
  } catch {
    // not remembered, still switched for this page
  }
}

/** Translate in the current language. */
export function t(key: MessageKey, params?: Params): string {
  return translate(getLang(), key, params);
}

/** Inline text for screens that keep their own wording (grid, office): Chinese first, English when chosen. */
export function tr(zhText: string, enText: string): string {
  return getLang() === 'en' ? enText : zhText;
}

/** Joins a list of names: 、 in Chinese, a comma in English. */
export function joinList(items: readonly string[]): string {
  return items.join(getLang() === 'en' ? ', ' : '、');
}

const CJK = /[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]/g;

/** Whether a reason's part reads as English: mostly English words, though it may quote the data it is about (a grid
 *  named in Chinese). */
function isEnglish(text: string): boolean {
  const latin = text.match(/[A-Za-z]/g)?.length ?? 0;
  const chinese = text.match(CJK)?.length ?? 0;
  return /[A-Za-z]{2}/.test(text) && latin >= chinese;
}

/** The English part of `reason`, with the field the reason names in front when the English does not name it. */
function withField(reason: string, english: string): string {
  const field = /^([\w.[\]-]+): (?=[^\x00-\x7f])/.exec(reason)?.[1];
  return field && !english.startsWith(`${field}:`) ? `${field}: ${english}` : english;
}

/** A reason written "中文（English）", as the rules and checklist editor's refusals are ("编号 x 与第 2 项重复（items:
 *  every item needs its own id）"), in `lang`: in English the words in the full-width brackets that end it, in
 *  Chinese what stands before them; several joined by "; " each so. Null for a reason not written so (brackets
 *  ending a Chinese text, 专班整治（working_group）, hold no English sentence: no space). */
function bracketedIn(reason: string, lang: Lang): string | null {
  const parts = reason.split(/(?<=）); /);
  if (parts.length > 1) {
    const said = parts.map((part) => bracketedIn(part, lang));
    return said.every((part) => part !== null) ? said.join('; ') : null;
  }
  const open = reason.lastIndexOf('（');
  if (open <= 0 || !reason.endsWith('）')) return null;
  const chinese = reason.slice(0, open).trim();
  const english = reason.slice(open + 1, -1).trim();
  if (!isEnglish(english) || !/\s/.test(english) || !chinese.match(CJK)) return null;
  return lang === 'en' ? withField(reason, english) : chinese;
}

/** The server says why in Chinese, then in English after the Chinese sentence's full stop ("用户名 lina 已被占用，请换一个。
 *  username: lina is taken"), the field it names, if any, in front ("grid: 没有网格“x”：…。no grid x"). In English the
 *  user reads the English part, with that field; in Chinese the Chinese part, up to its full stop; a reason with no
 *  English part, all of it. A reason whose English is in brackets at its end ("中文（English）", `bracketedIn`) is
 *  said in the language's part. */
export function reasonIn(reason: string, lang: Lang = getLang()): string {
  const bracketed = bracketedIn(reason, lang);
  if (bracketed !== null) return bracketed;
  const stop = reason.lastIndexOf('。');
  const english = reason.slice(stop + 1).trim();
  if (stop === -1 || !isEnglish(english)) return reason;
  return lang === 'en' ? withField(reason, english) : reason.slice(0, stop + 1);
}

export { zh as ownerZh, en as ownerEn };
