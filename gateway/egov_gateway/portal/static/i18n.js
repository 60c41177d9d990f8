// Interface strings in Kazakh, Russian and English; the catalogue's own texts come from the register.
const STRINGS = {
  kk: {
    brand: "Бірыңғай терезе", skip: "Мазмұнға өту", language: "Тіл", footer: "egov-mesh — электрондық үкімет шлюзі",
    nav_services: "Қызметтер", nav_applications: "Өтініштерім", nav_offers: "Ұсыныстар", nav_notifications: "Хабарламалар",
    nav_invoices: "Төлемдер", nav_data: "Деректеріме кім қарады", nav_operator: "Тиімділік", nav_login: "Кіру",
    logout: "Шығу", signed_in_as: "Кірген:",
    login_title: "Порталға кіру", iin: "ЖСН", iin_hint: "12 сан", password: "Құпиясөз", continue: "Жалғастыру",
    otp_title: "Бір реттік код", otp: "SMS-пен келген код", otp_sent: "Код жіберілді:", sign_in: "Кіру",
    logged_in: "Сіз кірдіңіз", logged_out: "Сіз шықтыңыз", login_needed: "Бұл бет үшін жүйеге кіріңіз.",
    services_title: "Мемлекеттік қызметтер тізілімі", search: "Іздеу", search_label: "Қызметті іздеу",
    kind: "Түрі", any: "Кез келген", simple: "Қарапайым", composite: "Кешенді", found: "Табылды",
    fee: "Алым", free: "Тегін", term: "Мерзім", agency: "Ведомство", apply: "Өтініш беру", details: "Толығырақ",
    prev: "Алдыңғы", next: "Келесі", page: "Бет",
    apply_title: "Өтініш", submit: "Жіберу", submitted: "Өтініш жіберілді", once_only: "Мемлекетте бар деректеріңізді қайта сұрамаймыз: оларды ведомство шлюз арқылы өзі алады.",
    steps: "Қадамдар", json_hint: "JSON тізімі",
    applications_title: "Менің өтініштерім", none: "Әзірге ештеңе жоқ.", status: "Мәртебесі", submitted_at: "Берілген", due: "Мерзімі",
    service: "Қызмет", timeline: "Барысы", result: "Нәтиже", refresh: "Жаңарту", overdue: "Мерзімі өтті",
    rate_title: "Қызметті бағалаңыз", rating: "Баға", comment: "Пікір", send_rating: "Бағалау", rated: "Рақмет! Бағаңыз сақталды.",
    offers_title: "Мемлекеттің ұсыныстары", accept: "Қабылдау", decline: "Бас тарту", accepted: "Ұсыныс қабылданды", declined: "Ұсыныстан бас тартылды", expires: "Мерзімі бітеді",
    notifications_title: "Хабарламалар", mark_read: "Оқылды",
    data_title: "Деректеріме кім қарады", who: "Кім", who_you: "Сіз", who_you_single_window: "Сіз (бірыңғай терезе арқылы)", who_citizen: "Азамат", when: "Қашан", operation: "Операция", purpose: "Мақсаты",
    invoices_title: "Шоттар мен төлемдер", pay: "Төлеу", paid: "Төленді", amount: "Сомасы", pay_opened: "Банк беті жаңа бетте ашылды. Төлегеннен кейін «Жаңарту» басыңыз.", open_bank: "Банк бетіне өту",
    operator_title: "Тиімділік көрсеткіштері", period_from: "Басы", period_to: "Соңы", show: "Көрсету", health: "Желінің жағдайы",
    up: "жұмыс істейді", down: "істемейді", suspended: "тоқтатылған", outage_total: "Іркілістер барлығы", data_table: "Деректер кестесі",
    k_applications: "Өтініштер", k_rendered: "Көрсетілген қызметтер", k_share_electronic: "Электронды үлесі", k_violations: "Мерзім бұзушылықтар", k_satisfaction: "Қанағаттану (1–5)", k_ratings: "Бағалар саны", k_median: "Нәтижеге дейін, медиана", k_p90: "Нәтижеге дейін, p90", k_failures: "Техникалық іркілістер", k_integrations: "Ведомствоаралық интеграциялар (қолданылған / рұқсат)", c_by_status: "Мәртебе бойынша өтініштер", c_ratings: "Бағалардың бөлінуі", c_rendered_agency: "Ведомстволар бойынша көрсетілген қызметтер", c_violations_agency: "Ведомстволар бойынша мерзім бұзушылықтар", c_failures_agency: "Ведомстволар бойынша іркілістер, с", c_integrations: "Интеграциялар", c_satisfaction_service: "Қызметтер бойынша қанағаттану", used: "қолданылған", granted: "рұқсат етілген", all_agencies: "Барлық ведомстволар",
    loading: "Жүктелуде…", error: "Қате", not_found: "Бет табылмады", operator_only: "Бұл бет операторларға арналған.",
    // citizen pages: statuses, steps, timeline, documents, verification, forms
    st_submitted: "Қабылданды", st_in_progress: "Орындалуда", st_waiting: "Жауап күтілуде", st_compensating: "Тоқтатылуда", st_completed: "Көрсетілді", st_failed: "Көрсетілмеді",
    st_pending: "Кезекте", st_calling: "Орындалуда", st_done: "Орындалды", st_compensated: "Қайтарылды", st_compensation_failed: "Қайтару сәтсіз", st_skipped: "Қажет емес",
    st_offered: "Ұсынылды", st_accepted: "Қабылданды", st_declined: "Бас тартылды", st_expired: "Мерзімі өтті", st_withdrawn: "Қайтарып алынды",
    st_issued: "Төлеуге", st_paid: "Төленді", st_cancelled: "Жойылды", st_refunded: "Қайтарылды", st_partially_refunded: "Ішінара қайтарылды", st_unknown: "Өңделуде",
    tl_submitted: "Өтініш қабылданды", tl_status: "Мәртебе", tl_step_started: "басталды", tl_step_waiting: "ведомствоның жауабы күтілуде", tl_step_event: "ведомство жауап берді", tl_step_done: "орындалды", tl_step_failed: "орындалмады", tl_step_retry: "қайта жіберіледі", tl_step_skipped: "қажет болмады", tl_rated: "Сіз бағаладыңыз", tl_other: "жаңарту",
    step_n: "Қадам", step_applicant: "Сіз туралы деректер мемлекеттің дерекқорынан алынды", failed_generic: "Қызмет көрсетілмеді. Қажет болса, өтінішті қайта беріңіз немесе ХҚКО-ға хабарласыңыз.",
    documents: "Құжаттар", open_document: "Құжатты ашу", print: "Басып шығару", download_pdf: "PDF жүктеу", doc_number: "Нөмірі", issued_on: "Берілген күні", issued_by: "Берген",
    verify_title: "Құжаттың түпнұсқалығын тексеру", verify_here: "Түпнұсқалығын тексеру", verify_scan: "QR-кодты сканерлеңіз немесе сілтемені ашыңыз:",
    verify_valid: "Құжат жарамды: оны мемлекеттік орган берген және электрондық цифрлық қолтаңбасы расталды.", verify_invalid: "Құжат жарамсыз: қолтаңбасы расталмады немесе құжат қайтарып алынған.", verify_expired: "Құжаттың қолданылу мерзімі өтті.", verify_not_found: "Мұндай нөмірлі құжат берілмеген.",
    verify_number: "Құжат нөмірі", verify_check: "Тексеру", amounts: "Сомалар", amount_paid: "Төлем",
    from_records: "Мемлекеттің деректерінен", my_record: "Сіз туралы бізде бар деректер", full_name: "Аты-жөні", record_unavailable: "Деректеріңізді қазір алу мүмкін болмады; өрістерді өзіңіз толтырыңыз.",
    err_required: "Толтырыңыз", err_iin_length: "ЖСН 12 саннан тұрады", err_iin_invalid: "ЖСН дұрыс емес (бақылау саны сәйкес келмейді)", err_bin_invalid: "БСН дұрыс емес (бақылау саны сәйкес келмейді)", err_too_long: "Тым ұзын", err_too_short: "Тым қысқа", err_pattern: "Пішімі дұрыс емес", err_range: "Рұқсат етілмеген мән", err_form: "Өрістерді тексеріңіз",
    add_row: "Қосу", remove_row: "Жою", row: "Жол", list_hint: "Әрбір жол — бір жазба", lines_hint: "Әр мәнді жаңа жолдан жазыңыз", optional_section: "Қосымша (міндетті емес)",
    // sign-in and centre
    dev_banner_title: "Әзірлеу режимі — тек әзірлеуге арналған көмек", dev_banner_text: "Бұл компьютерден SMS жіберілмейді. Код жіберілген нөмір", dev_banner_use: "Осы кодты енгізу",
    sms_not_sent: "Кодты телефоныңызға жіберу мүмкін болмады. Бір минуттан кейін қайталап көріңіз.",
    nav_centre: "ХҚКО", centre_title: "Халыққа қызмет көрсету орталығы: азаматтың атынан өтініш",
    centre_intro: "Азаматтың ЖСН-ін енгізіңіз. Оның телефонына келісім коды жіберіледі; азамат кодты сізге айтса, оның атынан өтініш бере аласыз.",
    centre_citizen_iin: "Азаматтың ЖСН-і", centre_send_code: "Азаматқа код жіберу", centre_code_sent: "Келісім коды азаматтың телефонына жіберілді:",
    centre_code: "Азамат айтқан код", centre_confirm: "Келісімді растау", centre_consented: "Азамат келісім берді:",
    centre_service: "Қызмет", centre_choose: "Қызметті таңдаңыз", centre_open_form: "Нысанды ашу",
    centre_submitted: "Өтініш азаматтың атынан жіберілді. Азамат оны «Өтініштерім» бөлімінен көреді.", centre_next: "Келесі азамат",
    centre_only_operators: "Бұл бет халыққа қызмет көрсету орталықтарының операторларына арналған.", origin_centre: "Халыққа қызмет көрсету орталығы арқылы",
    // operator page and search
    u_hours: "сағ", u_minutes: "мин", u_seconds: "сек", c_failures_agency_hm: "Ведомстволар бойынша техникалық іркілістер (сағ, мин)",
    failures_table: "Ведомстволардың техникалық іркілістері", failures_duration: "Жалпы ұзақтығы", failures_count: "Іркілістер саны", no_failures: "Кезеңде техникалық іркілістер болған жоқ.",
    status_legend: "✓ — көрсетілді (жасыл), ✗ — көрсетілмеді (қызыл, штрихталған), … — орындалуда (сары, нүктелі), ○ — қабылданды.",
  },
  ru: {
    brand: "Единое окно", skip: "Перейти к содержимому", language: "Язык", footer: "egov-mesh — шлюз электронного правительства",
    nav_services: "Услуги", nav_applications: "Мои заявления", nav_offers: "Предложения", nav_notifications: "Уведомления",
    nav_invoices: "Платежи", nav_data: "Кто смотрел мои данные", nav_operator: "Эффективность", nav_login: "Войти",
    logout: "Выйти", signed_in_as: "Вы вошли:",
    login_title: "Вход на портал", iin: "ИИН", iin_hint: "12 цифр", password: "Пароль", continue: "Продолжить",
    otp_title: "Одноразовый код", otp: "Код из SMS", otp_sent: "Код отправлен на", sign_in: "Войти",
    logged_in: "Вы вошли", logged_out: "Вы вышли", login_needed: "Войдите, чтобы открыть эту страницу.",
    services_title: "Реестр государственных услуг", search: "Найти", search_label: "Поиск услуги",
    kind: "Вид", any: "Любой", simple: "Простая", composite: "Комплексная", found: "Найдено",
    fee: "Сбор", free: "Бесплатно", term: "Срок", agency: "Ведомство", apply: "Подать заявление", details: "Подробнее",
    prev: "Назад", next: "Далее", page: "Страница",
    apply_title: "Заявление", submit: "Отправить", submitted: "Заявление отправлено", once_only: "Мы не спрашиваем данные, которые уже есть у государства: ведомство получит их через шлюз.",
    steps: "Шаги", json_hint: "Список в формате JSON",
    applications_title: "Мои заявления", none: "Пока ничего нет.", status: "Статус", submitted_at: "Подано", due: "Срок",
    service: "Услуга", timeline: "Ход исполнения", result: "Результат", refresh: "Обновить", overdue: "Просрочено",
    rate_title: "Оцените услугу", rating: "Оценка", comment: "Комментарий", send_rating: "Оценить", rated: "Спасибо! Оценка сохранена.",
    offers_title: "Предложения государства", accept: "Принять", decline: "Отказаться", accepted: "Предложение принято", declined: "Вы отказались от предложения", expires: "Действует до",
    notifications_title: "Уведомления", mark_read: "Прочитано",
    data_title: "Кто обращался к моим данным", who: "Кто", who_you: "Вы", who_you_single_window: "Вы (через единое окно)", who_citizen: "Гражданин", when: "Когда", operation: "Операция", purpose: "Цель",
    invoices_title: "Счета и платежи", pay: "Оплатить", paid: "Оплачено", amount: "Сумма", pay_opened: "Страница банка открыта в новой вкладке. После оплаты нажмите «Обновить».", open_bank: "Перейти на страницу банка",
    operator_title: "Показатели эффективности", period_from: "С", period_to: "По", show: "Показать", health: "Состояние сети",
    up: "работает", down: "недоступно", suspended: "приостановлено", outage_total: "Всего сбоев", data_table: "Таблица данных",
    k_applications: "Заявления", k_rendered: "Оказано услуг", k_share_electronic: "Доля в электронном виде", k_violations: "Нарушения сроков", k_satisfaction: "Удовлетворённость (1–5)", k_ratings: "Оценок", k_median: "До результата, медиана", k_p90: "До результата, p90", k_failures: "Технические сбои", k_integrations: "Межведомственные интеграции (используются / разрешены)", c_by_status: "Заявления по статусам", c_ratings: "Распределение оценок", c_rendered_agency: "Оказано услуг по ведомствам", c_violations_agency: "Нарушения сроков по ведомствам", c_failures_agency: "Сбои по ведомствам, с", c_integrations: "Интеграции", c_satisfaction_service: "Удовлетворённость по услугам", used: "используются", granted: "разрешены", all_agencies: "Все ведомства",
    loading: "Загрузка…", error: "Ошибка", not_found: "Страница не найдена", operator_only: "Эта страница для операторов.",
    // citizen pages: statuses, steps, timeline, documents, verification, forms
    st_submitted: "Принято", st_in_progress: "Исполняется", st_waiting: "Ожидает ответа", st_compensating: "Отменяется", st_completed: "Услуга оказана", st_failed: "Отказано",
    st_pending: "В очереди", st_calling: "Исполняется", st_done: "Выполнено", st_compensated: "Отменено", st_compensation_failed: "Отмена не удалась", st_skipped: "Не требуется",
    st_offered: "Предложено", st_accepted: "Принято", st_declined: "Отклонено", st_expired: "Срок истёк", st_withdrawn: "Отозвано",
    st_issued: "К оплате", st_paid: "Оплачено", st_cancelled: "Аннулирован", st_refunded: "Возвращено", st_partially_refunded: "Частично возвращено", st_unknown: "Обрабатывается",
    tl_submitted: "Заявление принято", tl_status: "Статус", tl_step_started: "начато", tl_step_waiting: "ожидается ответ ведомства", tl_step_event: "ведомство ответило", tl_step_done: "выполнено", tl_step_failed: "не выполнено", tl_step_retry: "повторная отправка", tl_step_skipped: "не потребовалось", tl_rated: "Вы оценили услугу", tl_other: "обновление",
    step_n: "Шаг", step_applicant: "Ваши данные получены из государственных баз", failed_generic: "Услуга не оказана. При необходимости подайте заявление снова или обратитесь в ЦОН.",
    documents: "Документы", open_document: "Открыть документ", print: "Распечатать", download_pdf: "Скачать PDF", doc_number: "Номер", issued_on: "Дата выдачи", issued_by: "Выдал",
    verify_title: "Проверка подлинности документа", verify_here: "Проверить подлинность", verify_scan: "Отсканируйте QR-код или откройте ссылку:",
    verify_valid: "Документ действителен: выдан государственным органом, электронная цифровая подпись подтверждена.", verify_invalid: "Документ недействителен: подпись не подтверждена или документ отозван.", verify_expired: "Срок действия документа истёк.", verify_not_found: "Документ с таким номером не выдавался.",
    verify_number: "Номер документа", verify_check: "Проверить", amounts: "Суммы", amount_paid: "Выплата",
    from_records: "Из данных государства", my_record: "Ваши данные, которые у нас уже есть", full_name: "ФИО", record_unavailable: "Не удалось получить ваши данные; заполните поля сами.",
    err_required: "Заполните поле", err_iin_length: "ИИН состоит из 12 цифр", err_iin_invalid: "ИИН неверен (не сходится контрольная цифра)", err_bin_invalid: "БИН неверен (не сходится контрольная цифра)", err_too_long: "Слишком длинно", err_too_short: "Слишком коротко", err_pattern: "Неверный формат", err_range: "Недопустимое значение", err_form: "Проверьте поля формы",
    add_row: "Добавить", remove_row: "Удалить", row: "Строка", list_hint: "Каждая строка — одна запись", lines_hint: "Каждое значение с новой строки", optional_section: "Дополнительно (необязательно)",
    // sign-in and centre
    dev_banner_title: "Режим разработки — подсказка только для разработки", dev_banner_text: "С этого компьютера SMS не отправляются. Код, отправленный на номер", dev_banner_use: "Подставить этот код",
    sms_not_sent: "Не удалось отправить код на ваш телефон. Повторите попытку через минуту.",
    nav_centre: "ЦОН", centre_title: "Центр обслуживания населения: заявление от имени гражданина",
    centre_intro: "Введите ИИН гражданина. На его телефон придёт код согласия; если гражданин назовёт вам код, вы сможете подать заявление от его имени.",
    centre_citizen_iin: "ИИН гражданина", centre_send_code: "Отправить код гражданину", centre_code_sent: "Код согласия отправлен на телефон гражданина:",
    centre_code: "Код, который назвал гражданин", centre_confirm: "Подтвердить согласие", centre_consented: "Гражданин дал согласие:",
    centre_service: "Услуга", centre_choose: "Выберите услугу", centre_open_form: "Открыть форму",
    centre_submitted: "Заявление подано от имени гражданина. Гражданин увидит его в разделе «Мои заявления».", centre_next: "Следующий гражданин",
    centre_only_operators: "Эта страница — для операторов центров обслуживания населения.", origin_centre: "Через центр обслуживания населения",
    // operator page and search
    u_hours: "ч", u_minutes: "мин", u_seconds: "с", c_failures_agency_hm: "Технические сбои по ведомствам (ч, мин)",
    failures_table: "Технические сбои ведомств", failures_duration: "Общая продолжительность", failures_count: "Число сбоев", no_failures: "За период технических сбоев не было.",
    status_legend: "✓ — услуга оказана (зелёный), ✗ — отказано (красный, штриховка), … — исполняется (жёлтый, точки), ○ — принято.",
  },
  en: {
    brand: "Single window", skip: "Skip to content", language: "Language", footer: "egov-mesh — the e-government gateway",
    nav_services: "Services", nav_applications: "My applications", nav_offers: "Offers", nav_notifications: "Notifications",
    nav_invoices: "Payments", nav_data: "Who accessed my data", nav_operator: "Efficiency", nav_login: "Sign in",
    logout: "Sign out", signed_in_as: "Signed in:",
    login_title: "Sign in to the portal", iin: "IIN", iin_hint: "12 digits", password: "Password", continue: "Continue",
    otp_title: "One-time code", otp: "Code from the SMS", otp_sent: "Code sent to", sign_in: "Sign in",
    logged_in: "You are signed in", logged_out: "You are signed out", login_needed: "Sign in to open this page.",
    services_title: "Register of public services", search: "Search", search_label: "Find a service",
    kind: "Kind", any: "Any", simple: "Simple", composite: "Composite", found: "Found",
    fee: "Fee", free: "Free", term: "Term", agency: "Agency", apply: "Apply", details: "Details",
    prev: "Previous", next: "Next", page: "Page",
    apply_title: "Application", submit: "Submit", submitted: "Application submitted", once_only: "We never ask for data the state already holds: the agency fetches it through the gateway.",
    steps: "Steps", json_hint: "A JSON list",
    applications_title: "My applications", none: "Nothing yet.", status: "Status", submitted_at: "Submitted", due: "Due",
    service: "Service", timeline: "Timeline", result: "Result", refresh: "Refresh", overdue: "Overdue",
    rate_title: "Rate this service", rating: "Rating", comment: "Comment", send_rating: "Rate", rated: "Thank you! Your rating is saved.",
    offers_title: "Offers from the state", accept: "Accept", decline: "Decline", accepted: "Offer accepted", declined: "Offer declined", expires: "Expires",
    notifications_title: "Notifications", mark_read: "Mark read",
    data_title: "Who accessed my data", who: "Who", who_you: "You", who_you_single_window: "You (through the single window)", who_citizen: "A citizen", when: "When", operation: "Operation", purpose: "Purpose",
    invoices_title: "Invoices and payments", pay: "Pay", paid: "Paid", amount: "Amount", pay_opened: "The bank's page opened in a new tab. Press “Refresh” after paying.", open_bank: "Go to the bank's page",
    operator_title: "Efficiency figures", period_from: "From", period_to: "To", show: "Show", health: "Health of the mesh",
    up: "up", down: "down", suspended: "suspended", outage_total: "Technical failures, total", data_table: "Data table",
    k_applications: "Applications", k_rendered: "Services rendered", k_share_electronic: "Share electronic", k_violations: "Term (SLA) violations", k_satisfaction: "Satisfaction (1–5)", k_ratings: "Ratings", k_median: "Time to result, median", k_p90: "Time to result, p90", k_failures: "Technical failures", k_integrations: "Integrations between agencies (used / granted)", c_by_status: "Applications by status", c_ratings: "Distribution of ratings", c_rendered_agency: "Services rendered by agency", c_violations_agency: "Term violations by agency", c_failures_agency: "Technical failures by agency, s", c_integrations: "Integrations", c_satisfaction_service: "Satisfaction by service", used: "used", granted: "granted", all_agencies: "All agencies",
    loading: "Loading…", error: "Error", not_found: "Page not found", operator_only: "This page is for operators.",
    // citizen pages: statuses, steps, timeline, documents, verification, forms
    st_submitted: "Received", st_in_progress: "In progress", st_waiting: "Awaiting a reply", st_compensating: "Being cancelled", st_completed: "Service rendered", st_failed: "Refused",
    st_pending: "Queued", st_calling: "In progress", st_done: "Done", st_compensated: "Undone", st_compensation_failed: "Could not be undone", st_skipped: "Not needed",
    st_offered: "Offered", st_accepted: "Accepted", st_declined: "Declined", st_expired: "Expired", st_withdrawn: "Withdrawn",
    st_issued: "To pay", st_paid: "Paid", st_cancelled: "Cancelled", st_refunded: "Refunded", st_partially_refunded: "Partly refunded", st_unknown: "Being processed",
    tl_submitted: "Application received", tl_status: "Status", tl_step_started: "started", tl_step_waiting: "awaiting the agency's reply", tl_step_event: "the agency replied", tl_step_done: "done", tl_step_failed: "not done", tl_step_retry: "sent again", tl_step_skipped: "not needed", tl_rated: "You rated the service", tl_other: "update",
    step_n: "Step", step_applicant: "Your details taken from the state's records", failed_generic: "The service could not be rendered. If you need to, apply again or visit a public service centre.",
    documents: "Documents", open_document: "Open the document", print: "Print", download_pdf: "Download PDF", doc_number: "Number", issued_on: "Issued on", issued_by: "Issued by",
    verify_title: "Is this document genuine?", verify_here: "Check that it is genuine", verify_scan: "Scan the QR code or open the link:",
    verify_valid: "The document is valid: a state body issued it and its digital signature is confirmed.", verify_invalid: "The document is not valid: its signature is not confirmed or it was revoked.", verify_expired: "The document has expired.", verify_not_found: "No document with this number was ever issued.",
    verify_number: "Document number", verify_check: "Check", amounts: "Amounts", amount_paid: "Payment",
    from_records: "From the state's records", my_record: "Your details the state already holds", full_name: "Full name", record_unavailable: "Your details could not be fetched just now; please fill in the fields.",
    err_required: "Please fill this in", err_iin_length: "An IIN has 12 digits", err_iin_invalid: "This IIN is wrong (its check digit does not match)", err_bin_invalid: "This BIN is wrong (its check digit does not match)", err_too_long: "Too long", err_too_short: "Too short", err_pattern: "Wrong format", err_range: "Value not allowed", err_form: "Please check the form",
    add_row: "Add", remove_row: "Remove", row: "Row", list_hint: "One entry per row", lines_hint: "One value per line", optional_section: "Optional",
    // sign-in and centre
    dev_banner_title: "Development mode — a development aid only", dev_banner_text: "No SMS leaves this machine. The code sent to", dev_banner_use: "Use this code",
    sms_not_sent: "The code could not be sent to your phone. Please try again in a minute.",
    nav_centre: "Service centre", centre_title: "Public service centre: apply for a citizen",
    centre_intro: "Enter the citizen's IIN. A consent code goes to their phone; when the citizen tells you the code, you can apply on their behalf.",
    centre_citizen_iin: "Citizen's IIN", centre_send_code: "Send the code to the citizen", centre_code_sent: "The consent code was sent to the citizen's phone:",
    centre_code: "Code the citizen told you", centre_confirm: "Confirm consent", centre_consented: "The citizen consented:",
    centre_service: "Service", centre_choose: "Choose a service", centre_open_form: "Open the form",
    centre_submitted: "The application was submitted on the citizen's behalf. The citizen sees it under “My applications”.", centre_next: "Next citizen",
    centre_only_operators: "This page is for operators of public service centres.", origin_centre: "At a public service centre",
    // operator page and search
    u_hours: "h", u_minutes: "min", u_seconds: "s", c_failures_agency_hm: "Technical failures by agency (h, min)",
    failures_table: "Technical failures of agencies", failures_duration: "Total duration", failures_count: "Failures", no_failures: "No technical failures in the period.",
    status_legend: "✓ service rendered (green), ✗ refused (red, hatched), … in progress (amber, dotted), ○ received.",
  },
};

// names of the input fields the register's schemas use
const FIELDS = {
  surname: ["Тегі", "Фамилия", "Surname"], given_name: ["Аты", "Имя", "Given name"],
  patronymic: ["Әкесінің аты", "Отчество", "Patronymic"], birth_date: ["Туған күні", "Дата рождения", "Date of birth"],
  sex: ["Жынысы", "Пол", "Sex"], place: ["Орны", "Место", "Place"], mother_iin: ["Анасының ЖСН-і", "ИИН матери", "Mother's IIN"],
  father_iin: ["Әкесінің ЖСН-і", "ИИН отца", "Father's IIN"], iin: ["ЖСН", "ИИН", "IIN"], bin: ["БСН", "БИН", "BIN"],
  address: ["Мекенжайы", "Адрес", "Address"], name_kk: ["Атауы (қазақша)", "Наименование (каз.)", "Name (Kazakh)"],
  name_ru: ["Атауы (орысша)", "Наименование (рус.)", "Name (Russian)"], founders: ["Құрылтайшылар", "Учредители", "Founders"],
  cadastral_number: ["Кадастрлық нөмір", "Кадастровый номер", "Cadastral number"], notary_iin: ["Нотариустың ЖСН-і", "ИИН нотариуса", "Notary's IIN"],
  buyers: ["Сатып алушылар", "Покупатели", "Buyers"], price_tiyn: ["Бағасы (тиын)", "Цена (тиын)", "Price (tiyn)"],
  deceased_iin: ["Қайтыс болғанның ЖСН-і", "ИИН умершего", "IIN of the deceased"], date_of_death: ["Қайтыс болған күні", "Дата смерти", "Date of death"],
  recipient_iin: ["Алушының ЖСН-і", "ИИН получателя", "Recipient's IIN"], child_iin: ["Баланың ЖСН-і", "ИИН ребёнка", "Child's IIN"],
  male: ["Ер", "Мужской", "Male"], female: ["Әйел", "Женский", "Female"],
  id: ["ЖСН / БСН", "ИИН / БИН", "IIN / BIN"], share: ["Үлесі", "Доля", "Share"], num: ["Алымы", "Числитель", "Numerator"], den: ["Бөлімі", "Знаменатель", "Denominator"],
  owner: ["Меншік иесінің ЖСН-і", "ИИН собственника", "Owner's IIN"], payer: ["Төлеушінің ЖСН-і", "ИИН плательщика", "Payer's IIN"],
  license: ["Лицензия", "Лицензия", "License"], license_type: ["Лицензия түрі", "Вид лицензии", "License type"], details: ["Толығырақ", "Подробности", "Details"],
  activity_codes: ["Қызмет түрлерінің кодтары (ЭҚЖЖ)", "Коды видов деятельности (ОКЭД)", "Activity codes (OKED)"], sellers: ["Сатушылар", "Продавцы", "Sellers"],
  place_of_death: ["Қайтыс болған жері", "Место смерти", "Place of death"], legal_form: ["Ұйымдық-құқықтық нысаны", "Организационно-правовая форма", "Legal form"],
  director_iin: ["Басшының ЖСН-і", "ИИН руководителя", "Director's IIN"], number: ["Нөмірі", "Номер", "Number"], act_number: ["Акт жазбасының нөмірі", "Номер актовой записи", "Civil record number"],
  LLP: ["ЖШС", "ТОО", "LLP"], JSC: ["АҚ", "АО", "JSC"], apartment: ["Пәтер", "Квартира", "Apartment"], house: ["Үй", "Дом", "House"], land_plot: ["Жер учаскесі", "Земельный участок", "Land plot"],
  mortgage: ["Ипотека", "Ипотека", "Mortgage"], arrest: ["Тыйым", "Арест", "Arrest"],
};
const IDX = { kk: 0, ru: 1, en: 2 };

export const LANGS = ["kk", "ru", "en"];
let current = localStorage.getItem("egov.lang") || "kk";
if (!LANGS.includes(current)) current = "kk";

export function lang() { return current; }
export function setLang(value) {
  if (!LANGS.includes(value)) return;
  current = value;
  localStorage.setItem("egov.lang", value);
  document.documentElement.lang = value;
}
export function t(key) { return STRINGS[current][key] ?? STRINGS.en[key] ?? key; }
export function fieldLabel(name) {
  const f = FIELDS[name];
  if (f) return f[IDX[current]];
  const words = name.replace(/_/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
// a status (of an application, a step, an offer, an invoice) in words
export function statusText(status) {
  const key = `st_${status}`;
  return STRINGS[current][key] ?? STRINGS.en[key] ?? STRINGS[current].st_unknown;
}
// a field's value that is a code (male, LLP…) in words; other values as they are
export function valueText(value) {
  const f = FIELDS[value];
  return f ? f[IDX[current]] : value;
}
