import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@app/auth';
import { DASHBOARD_HTML } from './dashboard-page';

/** Serves the dashboard page; everything it shows comes from the token-protected API. */
@ApiExcludeController()
@Controller()
@Public()
export class DashboardController {
  @Get()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @Header('Content-Security-Policy', "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'")
  @Header('Cache-Control', 'no-store')
  page(): string {
    return DASHBOARD_HTML;
  }
}
